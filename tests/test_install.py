"""mmsr added to an environment that already has torch, mmcv, mmsegmentation and mmpretrain:
``pip install .`` and ``pip install -e .`` install mmsr alone (nothing upgraded, downgraded or
rebuilt), pip's resolver asked for mmsr with its extras would install nothing else, and a
user's own config (a stock ``mmseg::`` / ``mmpretrain::`` config plus ``custom_imports``) then
trains, resumes and tests with the stock upstream tools - on torch >= 2.6 with ``weights_only``
kept on (no ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``), the checkpoints the stock tools wrote load in
their ``--resume`` and ``test.py`` through mmsr's allow-list. Environments other than the test
environment's stack (torch 2.0.1, no torch, the newest setuptools) are in
``test_install_new_environments.py``.

The existing environment is the one running this suite (each test lane has its own stack). So
that it is never modified, pip works in a new virtual environment that sees this one's
packages as installed: a ``.pth`` file puts this environment's site-packages on its path. That
path does not process this environment's own ``.pth`` files, so the editable mmsr of the test
environment is not visible there.
"""
import json
import re
from pathlib import Path

import pytest

from install_envs import (REPO, build_wheel, building_from_the_repo, installed, new_existing_env,
                          run)
from mmsr.datasets import make_cityscapes_layout, make_imagenet_layout

USER_CONFIGS = REPO / 'tests' / 'data' / 'configs'


@pytest.fixture(scope='module')
def existing_env(tmp_path_factory):
    return new_existing_env(tmp_path_factory.mktemp('env'))


def repo_version():
    return re.search(r"__version__ = '([^']+)'", (REPO / 'mmsr' / 'version.py').read_text())[1]


def pip_install(python, cwd, *args):
    """``pip install *args`` in ``python``'s environment: ``(packages before, packages after,
    pip's log)``; mmsr must be absent before and installed by pip, at the repo's version."""
    before = installed(python, cwd)
    assert 'mmsr' not in before, before['mmsr']
    for package in ('torch', 'mmcv', 'mmsegmentation', 'mmpretrain', 'mmengine'):
        assert package in before, f'the existing environment lacks {package}'
    with building_from_the_repo():
        log = run([python, '-m', 'pip', 'install', *args], cwd)
    assert f'Successfully installed mmsr-{repo_version()}' in log, log[-3000:]
    return before, installed(python, cwd), log


@pytest.fixture(scope='module')
def installed_env(existing_env, tmp_path_factory):
    """The existing environment after ``pip install <repo>`` (one install for every test that
    needs mmsr installed there)."""
    return (existing_env, *pip_install(existing_env, tmp_path_factory.mktemp('install'), REPO))


def mmsr_location(python, cwd):
    return run([python, '-c', 'import mmsr; print(mmsr.__file__)'], cwd).strip().splitlines()[-1]


def options(root):
    return ['--cfg-options'] + [f'{loader}.dataset.data_root={root}' for loader in
                                ('train_dataloader', 'val_dataloader', 'test_dataloader')]


def stock_tool(python, codebase, name, cwd):
    """The upstream ``tools/<name>.py`` of ``codebase`` as ``python``'s environment finds it
    (located without importing the codebase)."""
    code = (f'import importlib.util, pathlib; '
            f'folder = importlib.util.find_spec("{codebase}").submodule_search_locations[0]; '
            f'print(pathlib.Path(folder) / ".mim" / "tools" / "{name}.py")')
    return run([python, '-c', code], cwd).strip().splitlines()[-1]


def check_added_alone(before, after, log):
    assert not re.search(r'(Building wheel for|Collecting) (torch|mmcv|mmseg|mmpretrain|'
                         r'mmengine)\b', log, re.IGNORECASE), log[-3000:]
    assert after.pop('mmsr') == repo_version()
    assert after == before  # nothing else installed, upgraded, downgraded or removed


def test_pip_install_adds_mmsr_alone(installed_env, tmp_path):
    python, before, after, log = installed_env
    check_added_alone(before, dict(after), log)
    location = Path(mmsr_location(python, tmp_path))
    assert REPO not in location.parents and 'site-packages' in location.parts


def test_pip_install_editable_adds_mmsr_alone(tmp_path):
    python = new_existing_env(tmp_path)
    check_added_alone(*pip_install(python, tmp_path, '-e', REPO))
    assert Path(mmsr_location(python, tmp_path)) == REPO / 'mmsr' / '__init__.py'


def test_users_config_with_stock_tools(installed_env, tmp_path):
    """The user's config, the stock train.py (then --resume) and test.py: no tool of ours."""
    existing_env = installed_env[0]
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


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp('wheel'))


def test_extras_resolve_to_nothing_new_in_an_environment_with_the_stack(existing_env, wheel,
                                                                        tmp_path):
    """pip's resolver, asked for mmsr with both extras where the OpenMMLab stack is installed,
    would install mmsr and nothing else."""
    report = tmp_path / 'report.json'
    run([existing_env, '-m', 'pip', 'install', '--dry-run', '--report', report,
         f'mmsr[seg,cls] @ {wheel.as_uri()}'], tmp_path)
    names = {item['metadata']['name'].lower()
             for item in json.loads(report.read_text())['install']}
    assert names <= {'mmsr'}, names
