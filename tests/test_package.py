"""`import mmsr`: what it registers, with and without the OpenMMLab codebases, and the Python and
torch it refuses."""
import re
import subprocess
import sys
import warnings
from importlib import metadata
from pathlib import Path

import mmengine.registry
import pytest

import mmsr
from mmsr import supported
from mmsr.errors import UnsupportedEnvironmentError

REPO = Path(__file__).resolve().parents[1]


def run_python(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_version_is_the_installed_distributions():
    from importlib.metadata import version
    assert mmsr.__version__ == version('mmsr')


def test_sr_block_in_root_registry():
    assert mmengine.registry.MODELS.get('SRBlock') is mmsr.SRBlock
    assert mmengine.registry.MODELS.get('DropBlock') is not None
    assert mmengine.registry.MODELS.get('CBAM') is not None


def test_registered_in_every_installed_codebase():
    """A codebase that is installed must be registered into (a broken install fails here);
    its registry then holds our backbones, built from our modules."""
    import importlib
    import importlib.util
    installed = {name: importlib.util.find_spec(name) is not None
                 for name in ('mmseg', 'mmpretrain')}
    assert mmsr.available_codebases() == installed
    expected = {'mmseg': ('PluggedResNet', 'PluggedResNetV1c', 'ResNetV1cSR', 'PluggedResNetV1d'),
                'mmpretrain': ('PluggedResNet', 'PluggedResNetV1c', 'ResNetV1cSR',
                               'PluggedResNetV1d', 'PluggedResNet_CIFAR', 'PluggedVGG',
                               'DropoutLinearClsHead')}
    for codebase in (name for name, present in installed.items() if present):
        registry = importlib.import_module(f'{codebase}.registry').MODELS
        for name in expected[codebase]:
            assert registry.get(name).__module__.startswith('mmsr.models.'), name
        assert registry.get('SRBlock') is mmsr.SRBlock


def test_readme_layout_matches_the_tree():
    """Every path the README's layout section names exists, and it names every sub-package."""
    readme = (REPO / 'README.md').read_text()
    block = readme.split('## Layout', 1)[1].split('```', 2)[1]
    named = re.findall(r'^(\S+/)', block, re.MULTILINE)
    assert named and all((REPO / path).is_dir() for path in named), named
    packages = {f'mmsr/{p.parent.relative_to(REPO / "mmsr")}/'
                for p in (REPO / 'mmsr').glob('*/__init__.py')}
    listed = {path for path in named if path.startswith('mmsr/')}
    assert packages - {'mmsr/models/'} <= {'/'.join(p.split('/')[:2]) + '/' for p in listed}


def test_imports_with_only_torch_and_mmengine():
    """mmseg, mmpretrain and mmcv made unimportable: the SR block still works."""
    result = run_python(
        'import sys\n'
        'for name in ("mmseg", "mmpretrain", "mmcv"): sys.modules[name] = None\n'
        'import warnings; warnings.simplefilter("error")\n'
        'import torch, mmsr\n'
        'assert mmsr.available_codebases() == {"mmseg": False, "mmpretrain": False}\n'
        'from mmengine.registry import MODELS\n'
        'block = MODELS.build(dict(type="SRBlock", in_channels=4, memory_size=3))\n'
        'x = torch.randn(2, 4, 3, 3); assert torch.equal(block(x), x)\n'
        'assert not any(m.startswith(("mmseg", "mmpretrain", "mmcv")) and sys.modules[m]\n'
        '               for m in sys.modules)\n'
        'print("ok")\n')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'ok'


def test_installed_but_broken_codebase_is_skipped_with_a_clear_warning():
    """mmseg present but mmcv missing (the usual broken install): a warning, not a crash."""
    result = run_python(
        'import sys\n'
        'sys.modules["mmcv"] = None\n'
        'import warnings\n'
        'with warnings.catch_warnings(record=True) as caught:\n'
        '    warnings.simplefilter("always")\n'
        '    import mmsr\n'
        'assert mmsr.available_codebases() == {"mmseg": False, "mmpretrain": False}\n'
        'text = " ".join(str(w.message) for w in caught)\n'
        'assert "mmseg is installed but cannot be imported" in text, text\n'
        'assert "mim install" in text and "tools/" not in text, text\n'
        'print("ok")\n')
    assert result.returncode == 0, result.stderr


def test_custom_imports_in_a_config_registers_everything(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text("custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)\n"
                      "model = dict(type='SRBlock', in_channels=8, memory_size=(2, 3))\n")
    result = run_python(
        'from mmengine.config import Config\n'
        'from mmengine.registry import MODELS\n'
        f'cfg = Config.fromfile({str(config)!r})\n'
        'print(type(MODELS.build(cfg.model)).__name__)\n')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'SRBlock'


def test_one_supported_range_in_mmsr_setup_readme_and_lanes():
    """The torch range ``import mmsr`` checks spans exactly the torch minors the test lanes pin;
    setup.py declares no torch (installing mmsr never changes it) and mmsr's Python range; the
    README's version matrix names every lane's pins and says both ranges."""
    setup = (REPO / 'setup.py').read_text()
    assert not re.search(r"""['"](torch|torchvision|mmcv)\b""", setup)
    assert f"python_requires='>={_dotted(supported.PYTHON_MIN)}'" in setup
    pins = {}
    for stack in sorted((REPO / 'requirements').glob('stack*.txt')):
        pins[stack.name] = dict(re.findall(r'^(torch|torchvision)==(\S+)', stack.read_text(),
                                           re.MULTILINE))
    minors = sorted(tuple(map(int, p['torch'].split('.')[:2])) for p in pins.values())
    assert (minors[0], minors[-1]) == (supported.TORCH_MIN, supported.TORCH_NEWEST_TESTED)
    readme = (REPO / 'README.md').read_text()
    for name, pin in pins.items():
        assert f'`requirements/{name}`' in readme
        assert f'{pin["torch"]} / {pin["torchvision"]}' in readme, name
    assert f'torch {_dotted(supported.TORCH_MIN)} or newer' in readme
    assert f'Python {_dotted(supported.PYTHON_MIN)} or newer' in readme
    makefile = (REPO / 'Makefile').read_text()
    assert all(f'requirements/{name}' in makefile for name in pins)


def _dotted(version):
    return '.'.join(map(str, version))


OLD_TORCH_MESSAGE = (
    'mmsr supports torch 2.1 or newer (tested: 2.1 to 2.15), and this environment has torch '
    "2.0.1: use mmsr in an environment with torch >= 2.1 (OpenMMLab's prebuilt mmcv 2.1.0 "
    'wheels serve torch 2.1).')
NO_TORCH_MESSAGE = ('mmsr needs torch 2.1 or newer (tested: 2.1 to 2.15), and this environment '
                    'has no torch: install torch first')


def test_an_older_torch_is_refused_with_one_line():
    """The message ``import mmsr`` ends with where torch is older than 2.1, or absent (shown in
    a real torch 2.0.1 environment and one without torch by tests/test_install.py)."""
    with pytest.raises(UnsupportedEnvironmentError) as error:
        supported.check_torch('2.0.1')
    assert str(error.value) == OLD_TORCH_MESSAGE
    for version in ('1.13.1+cu117', '2.0.0a0+gitc263bd4'):
        with pytest.raises(UnsupportedEnvironmentError, match=rf'has torch {re.escape(version)}:'):
            supported.check_torch(version)
    with pytest.raises(UnsupportedEnvironmentError, match=f'^{re.escape(NO_TORCH_MESSAGE)}'):
        supported.check_torch(None)


def test_the_torch_version_is_read_without_importing_torch():
    """From the installed package's metadata: a torch too old to import cleanly is named, not
    imported (tests/test_install.py shows it with torch 2.0.1)."""
    result = run_python(
        'import sys, types; sys.modules["torch"] = None\n'  # importing torch now fails
        'package = types.ModuleType("mmsr"); package.__path__ = ["mmsr"]\n'
        'sys.modules["mmsr"] = package  # mmsr.supported without mmsr/__init__.py\n'
        'from mmsr.supported import installed_torch_version\n'
        'print(installed_torch_version())')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == metadata.version('torch')


def test_supported_torch_versions_pass_and_newer_ones_warn():
    for version in ('2.1.0', '2.1.2+cu121', '2.6.0a0+ecf3bae40a', '2.14.1', '2.15.0'):
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            supported.check_torch(version)
    with pytest.warns(UserWarning, match=r'^mmsr was tested with torch 2\.1 to 2\.15; torch '
                                         r'2\.16\.0 is newer and untested\.$'):
        supported.check_torch('2.16.0')
    with pytest.raises(UnsupportedEnvironmentError, match='not of the form MAJOR.MINOR'):
        supported.check_torch('nightly')


def test_python_older_than_the_supported_one_is_refused():
    supported.check_python((3, 10, 0))
    supported.check_python((3, 13, 1))
    with pytest.raises(UnsupportedEnvironmentError,
                       match=r'^mmsr needs Python 3\.10 or newer, and this is Python 3\.9: '):
        supported.check_python((3, 9, 18))
