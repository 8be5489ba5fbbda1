"""`import mmsr`: what it registers, with and without the OpenMMLab codebases."""
import subprocess
import sys
from pathlib import Path

import mmengine.registry

import mmsr

REPO = Path(__file__).resolve().parents[1]


def run_python(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_version_and_codebases():
    assert mmsr.__version__ == '0.1.0'
    assert set(mmsr.available_codebases()) == {'mmseg', 'mmpretrain'}


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
    expected = {'mmseg': ('ResNetSR', 'ResNetV1cSR', 'ResNetV1dSR'),
                'mmpretrain': ('ResNetSR', 'ResNetV1cSR', 'ResNetV1dSR', 'ResNet_CIFAR_SR',
                               'VGGSR', 'ResNetStageDropout', 'ResNet_CIFAR_StageDropout',
                               'ResNet_CIFAR_Attention', 'DropoutLinearClsHead')}
    for codebase in (name for name, present in installed.items() if present):
        registry = importlib.import_module(f'{codebase}.registry').MODELS
        for name in expected[codebase]:
            assert registry.get(name).__module__.startswith('mmsr.models.'), name
        assert registry.get('SRBlock') is mmsr.SRBlock


def test_readme_layout_matches_the_tree():
    """Every path the README's layout section names exists, and it names every sub-package."""
    import re
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
        'assert "install_mmcv.py" in text\n'
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


def test_one_supported_torch_range_in_setup_readme_and_lanes():
    """setup.py's torch range spans exactly the torch minors the test lanes pin, and the
    README's version matrix names every lane's pins."""
    import re
    setup = (REPO / 'setup.py').read_text()
    low, high = re.search(r"'torch>=(\d+\.\d+),<(\d+\.\d+)'", setup).groups()
    pins = {}
    for stack in sorted((REPO / 'requirements').glob('stack*.txt')):
        pins[stack.name] = dict(re.findall(r'^(torch|torchvision)==(\S+)', stack.read_text(),
                                           re.MULTILINE))
    minors = sorted(tuple(map(int, p['torch'].split('.')[:2])) for p in pins.values())
    assert minors[0] == tuple(map(int, low.split('.')))
    assert (minors[-1][0], minors[-1][1] + 1) == tuple(map(int, high.split('.')))
    readme = (REPO / 'README.md').read_text()
    for name, pin in pins.items():
        assert f'`requirements/{name}`' in readme
        assert f'{pin["torch"]} / {pin["torchvision"]}' in readme, name
    makefile = (REPO / 'Makefile').read_text()
    assert all(f'requirements/{name}' in makefile for name in pins)
