"""mmsr added to an environment that already has torch, mmcv, mmsegmentation and mmpretrain:
``pip install .`` and ``pip install -e .`` install mmsr alone (nothing upgraded, downgraded or
rebuilt), and a user's own config (a stock ``mmseg::`` / ``mmpretrain::`` config plus
``custom_imports``) then trains, resumes and tests with the stock upstream tools.

The existing environment is the one running this suite (each test lane has its own stack). So
that it is never modified, pip works in a new virtual environment that sees this one's
packages as installed: a ``.pth`` file puts this environment's site-packages on its path. That
path does not process this environment's own ``.pth`` files, so the editable mmsr of the test
environment is not visible there.
"""
import json
import os
import re
import site
import subprocess
import sys
from pathlib import Path

import pytest

from mmsr.datasets import make_cityscapes_layout, make_imagenet_layout

REPO = Path(__file__).resolve().parents[1]
USER_CONFIGS = REPO / 'tests' / 'data' / 'configs'


def run(args, cwd, expect_rc=0):
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD')}
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == expect_rc, output[-4000:]
    return output


@pytest.fixture(scope='module')
def existing_env(tmp_path_factory):
    """``python`` of a new venv whose installed packages are this environment's (less mmsr)."""
    venv = tmp_path_factory.mktemp('env') / 'venv'
    run([sys.executable, '-m', 'venv', venv], cwd=venv.parent)
    python = venv / 'bin' / 'python'
    purelib = run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                  cwd=venv.parent).strip()
    Path(purelib, 'existing_env.pth').write_text('\n'.join(site.getsitepackages()) + '\n')
    return python


def installed(python, cwd):
    """``{name: version}`` of every distribution the environment sees, and where mmsr is."""
    code = ('import importlib.metadata as md, json\n'
            'print(json.dumps({d.metadata["Name"].lower(): d.version for d in md.distributions()}'
            '))')
    return json.loads(run([python, '-c', code], cwd).strip().splitlines()[-1])


def mmsr_location(python, cwd):
    return run([python, '-c', 'import mmsr; print(mmsr.__file__)'], cwd).strip().splitlines()[-1]


def options(root):
    return ['--cfg-options'] + [f'{loader}.dataset.data_root={root}' for loader in
                                ('train_dataloader', 'val_dataloader', 'test_dataloader')]


def stock_tool(python, codebase, name, cwd):
    code = (f'import {codebase}, pathlib; '
            f'print(pathlib.Path({codebase}.__file__).parent / ".mim" / "tools" / "{name}.py")')
    return run([python, '-c', code], cwd).strip().splitlines()[-1]


@pytest.mark.parametrize('editable', [False, True], ids=['install', 'install-e'])
def test_pip_install_adds_mmsr_alone(existing_env, editable, tmp_path):
    before = installed(existing_env, tmp_path)
    before.pop('mmsr', None)  # an earlier parametrisation's install
    for package in ('torch', 'mmcv', 'mmsegmentation', 'mmpretrain', 'mmengine'):
        assert package in before, f'the existing environment lacks {package}'
    log = run([existing_env, '-m', 'pip', 'install', *(['-e'] if editable else []), REPO],
              tmp_path)
    assert not re.search(r'(Building wheel for|Collecting) (torch|mmcv|mmseg|mmpretrain|'
                         r'mmengine)\b', log, re.IGNORECASE), log[-3000:]
    after = installed(existing_env, tmp_path)
    assert after.pop('mmsr') == '0.1.0'
    assert after == before  # nothing else installed, upgraded, downgraded or removed
    location = Path(mmsr_location(existing_env, tmp_path))
    if editable:
        assert location == REPO / 'mmsr' / '__init__.py'
    else:
        assert REPO not in location.parents and 'site-packages' in location.parts


def test_users_config_with_stock_tools(existing_env, tmp_path):
    """The user's config, the stock train.py (then --resume) and test.py: no tool of ours."""
    run([existing_env, '-m', 'pip', 'install', REPO], tmp_path)
    cityscapes = make_cityscapes_layout(tmp_path / 'cityscapes', num_train=4, num_val=2)
    imagenet = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=4,
                                    val_per_class=2)
    for codebase, config, root, first, resumed, more, metric in (
            ('mmseg', 'tiny_fcn_r18_sr_cityscapes.py', cityscapes, 'iter_4.pth',
             'iter_6.pth', ['train_cfg.max_iters=6', 'train_cfg.val_interval=6',
                            'param_scheduler.0.end=6'], r'mIoU: \d'),
            ('mmpretrain', 'tiny_resnet18_sr_imagenet.py', imagenet, 'epoch_1.pth',
             'epoch_2.pth', ['train_cfg.max_epochs=2'], r'accuracy/top1: \d')):
        work = tmp_path / codebase
        train = stock_tool(existing_env, codebase, 'train', tmp_path)
        run([existing_env, train, USER_CONFIGS / config, '--work-dir', work, *options(root)],
            tmp_path)
        assert (work / first).is_file()
        log = run([existing_env, train, USER_CONFIGS / config, '--work-dir', work, '--resume',
                   *options(root), *more], tmp_path)
        assert 'resumed' in log.lower() and (work / resumed).is_file()
        log = run([existing_env, stock_tool(existing_env, codebase, 'test', tmp_path),
                   USER_CONFIGS / config, work / resumed, '--work-dir', tmp_path / f'{codebase}_test',
                   *options(root)], tmp_path)
        assert re.search(metric, log)
