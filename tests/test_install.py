"""mmsr added to an environment that already has torch, mmcv, mmsegmentation and mmpretrain:
``pip install .`` and ``pip install -e .`` install mmsr alone (nothing upgraded, downgraded or
rebuilt), and a user's own config (a stock ``mmseg::`` / ``mmpretrain::`` config plus
``custom_imports``) then trains, resumes and tests with the stock upstream tools - on torch >=
2.6 with ``weights_only`` kept on (no ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``), the checkpoints the
stock tools wrote load in their ``--resume`` and ``test.py`` through mmsr's allow-list. mmsr's
requirements name no torch, so no torch (also one older than mmsr supports: torch 2.0.1, which
``import mmsr`` then refuses in one line) is ever changed, and pip applies mmsr's Python range. In an environment with the newest setuptools (no
``pkg_resources``, which mmengine needs for ``mmseg::`` bases) mmsr's tools say in one line
what to install, and that install fixes it.

The existing environment is the one running this suite (each test lane has its own stack). So
that it is never modified, pip works in a new virtual environment that sees this one's
packages as installed: a ``.pth`` file puts this environment's site-packages on its path. That
path does not process this environment's own ``.pth`` files, so the editable mmsr of the test
environment is not visible there.
"""
import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from mmsr.datasets import make_cityscapes_layout, make_imagenet_layout
from mmsr.supported import PYTHON_MIN, SETUPTOOLS_WITHOUT_PKG_RESOURCES

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


def new_existing_env(root):
    """``python`` of a new venv whose installed packages are this environment's (less mmsr)."""
    venv = root / 'venv'
    run([sys.executable, '-m', 'venv', venv], cwd=root)
    python = venv / 'bin' / 'python'
    purelib = run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                  cwd=root).strip()
    Path(purelib, 'existing_env.pth').write_text('\n'.join(site.getsitepackages()) + '\n')
    return python


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
    log = run([python, '-m', 'pip', 'install', *args], cwd)
    assert f'Successfully installed mmsr-{repo_version()}' in log, log[-3000:]
    return before, installed(python, cwd), log


@pytest.fixture(scope='module')
def installed_env(existing_env, tmp_path_factory):
    """The existing environment after ``pip install <repo>`` (one install for every test that
    needs mmsr installed there)."""
    return (existing_env, *pip_install(existing_env, tmp_path_factory.mktemp('install'), REPO))


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
    """mmsr's wheel, built as ``pip install`` builds it, from a copy of the sources (so that no
    build folder of an earlier build is packaged, and none is left in the repository)."""
    out = tmp_path_factory.mktemp('wheel')
    source = out / 'source'
    shutil.copytree(REPO / 'mmsr', source / 'mmsr',
                    ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('setup.py', 'README.md'):
        shutil.copy(REPO / name, source / name)
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-w', out, source], cwd=out)
    (path, ) = out.glob('mmsr-*.whl')
    return path


def test_requirements_name_no_torch_and_pip_applies_the_python_range(wheel, tmp_path):
    """No requirement of mmsr, extras included, is torch or a package built against it, so pip
    leaves any torch as it is - also torch 1.13 or 2.0 (which ``import mmsr`` then refuses:
    shown with torch 2.0.1 below); pip refuses mmsr for a Python older than the supported one."""
    with zipfile.ZipFile(wheel) as archive:
        wheel_metadata = archive.read('mmsr-0.1.0.dist-info/METADATA').decode()
    requires = {re.match(r'[A-Za-z0-9_.-]+', line)[0].lower()
                for line in re.findall(r'^Requires-Dist: (.+)$', wheel_metadata, re.MULTILINE)}
    assert {'mmengine', 'mmsegmentation', 'mmpretrain'} <= requires
    assert not requires & {'torch', 'torchvision', 'mmcv', 'mmcv-lite', 'mmcv-full'}, requires
    oldest, older = (f'{PYTHON_MIN[0]}.{minor}' for minor in (PYTHON_MIN[1], PYTHON_MIN[1] - 1))
    assert f'Requires-Python: >={oldest}' in wheel_metadata.splitlines()
    download = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--no-index',
                '--only-binary=:all:', '--find-links', wheel.parent, '-d', tmp_path,
                '--python-version']
    log = run([*download, older, 'mmsr'], tmp_path, expect_rc=1)
    assert (f"ERROR: Package 'mmsr' requires a different Python: {older}.0 not in "
            f"'>={oldest}'") in log
    run([*download, oldest, 'mmsr'], tmp_path)


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


@pytest.fixture(scope='module')
def newest_setuptools_env(tmp_path_factory):
    """``python`` of a new venv that has the newest setuptools of the package index and, on its
    path after that, every other package of this environment (linked into one folder)."""
    root = tmp_path_factory.mktemp('setuptools_env')
    run([sys.executable, '-m', 'venv', root / 'venv'], cwd=root)
    python = root / 'venv' / 'bin' / 'python'
    run([python, '-m', 'pip', 'install', '--upgrade', 'setuptools'], cwd=root)
    packages = root / 'packages'
    packages.mkdir()
    left_out = ('setuptools', 'pkg_resources', '_distutils_hack', 'distutils-precedence', 'pip',
                '__editable__', 'mmsr')
    for site_dir in map(Path, site.getsitepackages()):
        for entry in site_dir.iterdir():
            if not entry.name.lower().startswith(left_out) and entry.suffix != '.pth':
                (packages / entry.name).symlink_to(entry)
    purelib = run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                  cwd=root).strip()
    Path(purelib, 'packages.pth').write_text(f'{packages}\n')
    return python


def test_newest_setuptools_one_line_says_what_to_install(newest_setuptools_env, wheel,
                                                         tmp_path):
    """setuptools >= 81 ships no pkg_resources, which mmengine 0.10 imports to resolve the
    ``mmseg::`` base of a shipped config: tools/train.py prints one line saying what to
    install; after installing that, the same command reads the config (and stops at the
    missing dataset)."""
    python = newest_setuptools_env
    version = run([python, '-c', 'import setuptools; print(setuptools.__version__)'],
                  tmp_path).strip().splitlines()[-1]
    assert tuple(map(int, version.split('.')[:2])) >= SETUPTOOLS_WITHOUT_PKG_RESOURCES, version
    run([python, '-m', 'pip', 'install', '--no-deps', wheel], tmp_path)
    config = REPO / 'configs' / 'deeplabv3_r50_sr_cityscapes.py'
    train = [python, REPO / 'tools' / 'train.py', config, '--work-dir', tmp_path / 'work']
    log = run(train, tmp_path, expect_rc=2)
    below = SETUPTOOLS_WITHOUT_PKG_RESOURCES[0]
    mmengine = metadata.version('mmengine')
    assert 'Traceback' not in log and log.strip().splitlines()[-1] == (
        f'tools/train.py: error: {config}: mmengine {mmengine} resolves "mmseg::" / '
        f'"mmpretrain::" config bases with pkg_resources, which setuptools {version} does not '
        f'ship (setuptools >= {below} dropped it): pip install "setuptools<{below}"'), log
    run([python, '-m', 'pip', 'install', f'setuptools<{below}'], tmp_path)
    log = run(train, tmp_path, expect_rc=2)
    assert "data_root='data/cityscapes/' does not exist" in log, log


@pytest.fixture(scope='module')
def old_torch_env(tmp_path_factory):
    """``python`` of a new venv holding torch 2.0.1 from the package index: older than mmsr
    supports, and what OpenMMLab's prebuilt mmcv 2.1.0 wheels also serve. It is installed
    without its CUDA runtime packages (nvidia-*, some 2 GB): mmsr reads torch's version from
    its metadata and never imports an unsupported torch."""
    root = tmp_path_factory.mktemp('old_torch')
    run([sys.executable, '-m', 'venv', root / 'venv'], cwd=root)
    python = root / 'venv' / 'bin' / 'python'
    run([python, '-m', 'pip', 'install', '--no-deps', 'torch==2.0.1'], cwd=root)
    return python


def test_torch_2_0_environment_keeps_its_torch_and_import_refuses_it(old_torch_env, wheel,
                                                                    tmp_path):
    """pip's resolver, asked for mmsr in an environment with torch 2.0.1, installs no torch (it
    would have upgraded it had mmsr required torch >= 2.1); mmsr installed there leaves torch
    at 2.0.1, and ``import mmsr`` refuses it with one line naming the supported range."""
    python = old_torch_env
    report = tmp_path / 'report.json'
    run([python, '-m', 'pip', 'install', '--dry-run', '--report', report,
         f'mmsr @ {wheel.as_uri()}'], tmp_path)
    names = {item['metadata']['name'].lower()
             for item in json.loads(report.read_text())['install']}
    assert 'mmsr' in names and 'mmengine' in names, names  # the resolver did resolve
    assert not {name for name in names if name == 'torch' or name.startswith('nvidia-')}, names
    run([python, '-m', 'pip', 'install', '--no-deps', wheel], tmp_path)
    assert installed(python, tmp_path)['torch'] == '2.0.1'
    result = subprocess.run([str(python), '-c', 'import mmsr'], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'mmsr.errors.UnsupportedEnvironmentError: mmsr supports torch 2.1 or newer (tested: '
        '2.1 to 2.15), and this environment has torch 2.0.1: use mmsr in an environment with '
        "torch >= 2.1 (OpenMMLab's prebuilt mmcv 2.1.0 wheels serve torch 2.1).")


def test_an_environment_without_torch_is_told_to_install_it(wheel, tmp_path):
    run([sys.executable, '-m', 'venv', tmp_path / 'venv'], cwd=tmp_path)
    python = tmp_path / 'venv' / 'bin' / 'python'
    run([python, '-m', 'pip', 'install', '--no-deps', wheel], tmp_path)
    result = subprocess.run([str(python), '-c', 'import mmsr'], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        'mmsr.errors.UnsupportedEnvironmentError: mmsr needs torch 2.1 or newer (tested: 2.1 '
        'to 2.15), and this environment has no torch: install torch first'), result.stderr
