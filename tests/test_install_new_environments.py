"""mmsr's wheel in environments other than the test environment's stack, which the tests build:
its requirements name no torch and pip applies its Python range; in an environment with torch
2.0.1 (older than mmsr supports, and what OpenMMLab's prebuilt mmcv 2.1.0 wheels also serve)
pip installs no torch and ``import mmsr`` refuses that torch in one line; without torch,
``import mmsr`` says to install it; with the newest setuptools (no ``pkg_resources``, which
mmengine needs for ``mmseg::`` bases) mmsr's tools say in one line what to install, and that
install fixes it. None of these depends on the stack of the environment running the suite, so
they run in the main test environment only (``Makefile``).
"""
import json
import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from install_envs import REPO, build_wheel, installed, new_venv, purelib, run, site_packages
from mmsr.supported import PYTHON_MIN, SETUPTOOLS_WITHOUT_PKG_RESOURCES


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp('wheel'))


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


@pytest.fixture(scope='module')
def newest_setuptools_env(tmp_path_factory):
    """``python`` of a new venv that has the newest setuptools of the package index and, on its
    path after that, every other package of this environment (linked into one folder)."""
    root = tmp_path_factory.mktemp('setuptools_env')
    python = new_venv(root)
    run([python, '-m', 'pip', 'install', '--upgrade', 'setuptools'], cwd=root)
    packages = root / 'packages'
    packages.mkdir()
    left_out = ('setuptools', 'pkg_resources', '_distutils_hack', 'distutils-precedence', 'pip',
                '__editable__', 'mmsr')
    for site_dir in site_packages():
        for entry in site_dir.iterdir():
            if not entry.name.lower().startswith(left_out) and entry.suffix != '.pth':
                (packages / entry.name).symlink_to(entry)
    (purelib(python, root) / 'packages.pth').write_text(f'{packages}\n')
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
    python = new_venv(root)
    # The test environment's uv (tools/setup_env.sh installs it) takes torch from the cache
    # the set-up uses.
    uv = Path(sys.executable).parent / 'uv'
    cache = os.environ.get('UV_CACHE_DIR') or Path(os.environ.get(
        'MMSR_CACHE_DIR', Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache')) /
        'mmsr')) / 'uv'
    installer = ([uv, 'pip', 'install', '--cache-dir', cache, '--python', python]
                 if uv.is_file() else [python, '-m', 'pip', 'install'])
    run([*installer, '--no-deps', 'torch==2.0.1'], cwd=root)
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
    python = new_venv(tmp_path)
    run([python, '-m', 'pip', 'install', '--no-deps', wheel], tmp_path)
    result = subprocess.run([str(python), '-c', 'import mmsr'], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        'mmsr.errors.UnsupportedEnvironmentError: mmsr needs torch 2.1 or newer (tested: 2.1 '
        'to 2.15), and this environment has no torch: install torch first'), result.stderr
