"""Every shipped config builds, each SR config differs from its baseline only in the SR block,
and the README's config table is the one computed from the built models."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from mmsr.analysis import build_model, sr_blocks

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
SR_CONFIGS = [p for p in CONFIGS if re.search(r'[-_]sr[-_]', p.name)]


def baseline_of(path: Path) -> Path:
    """The config an SR config adds its block to: the name without '-sr' / '_sr' (the P and h
    variants of the ImageNet D2D row: that row)."""
    name = re.sub(r'-sr(-p\d+|-h\d+)?_', '_', path.name).replace('_sr_', '_')
    if path.name in ('resnet50_sr_in1k.py', 'resnetv1c50-sr_8xb32_in1k.py'):  # stock baselines
        import mmpretrain
        stock = Path(mmpretrain.__file__).parent / '.mim' / 'configs' / 'resnet'
        return stock / name.replace('_in1k', '_8xb32_in1k').replace('_8xb32_8xb32', '_8xb32')
    return path.with_name(name)


def plain(node):
    """Without the ``_scope_`` keys an ``mmpretrain::`` base adds to what it defines."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items() if k != '_scope_'}
    if isinstance(node, (list, tuple)):
        return type(node)(plain(v) for v in node)
    return node


def without_sr(cfg: Config) -> dict:
    """The config as a dict, without SR: sr_cfg and custom_imports dropped, ``...SR`` backbone
    types mapped to their upstream class."""
    data = plain(cfg.to_dict())
    data.pop('custom_imports', None)
    backbone = data['model']['backbone']
    backbone.pop('sr_cfg', None)
    backbone['type'] = re.sub(r'_?SR$', '', backbone['type'])
    return data


def test_every_config_has_a_header_and_counts():
    assert len(CONFIGS) >= 98 and len(SR_CONFIGS) >= 45
    for path in CONFIGS:
        assert path.read_text().startswith('# '), f'{path} has no header comment'


@pytest.mark.parametrize('path', SR_CONFIGS, ids=lambda p: p.name)
def test_sr_config_differs_from_its_baseline_only_in_sr(path):
    cfg = Config.fromfile(str(path))
    baseline_path = baseline_of(path)
    baseline = Config.fromfile(str(baseline_path))
    expected = (without_sr(baseline) if 'SR' in baseline.model.backbone.type
                else plain(baseline.to_dict()))
    expected.pop('custom_imports', None)
    assert without_sr(cfg) == expected, f'{path.name} vs {baseline_path.name}'
    assert cfg.model.backbone.sr_cfg is not None
    assert cfg.custom_imports == dict(imports=['mmsr'], allow_failed_imports=False)


@pytest.mark.parametrize('path', [REPO / 'configs' / name for name in (
    'fcn_r50_sr_cityscapes.py', 'deeplabv3_r50_sr_cityscapes.py', 'resnet50_sr_in1k.py')] + [
    REPO / 'configs' / 'cifar100' / 'vgg19bn-sr_1xb128_cifar100.py'], ids=lambda p: p.name)
def test_headline_configs_build_with_one_sr_block(path):
    assert len(sr_blocks(build_model(Config.fromfile(str(path))))) == 1


def test_cityscapes_configs_keep_the_upstream_recipe():
    cfg = Config.fromfile(str(REPO / 'configs' / 'deeplabv3_r50_sr_cityscapes.py'))
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    assert cfg.train_cfg.max_iters == 80000 and cfg.train_cfg.val_interval == 8000
    assert cfg.param_scheduler[0].type == 'PolyLR' and cfg.param_scheduler[0].power == 0.9
    assert cfg.model.pretrained == 'open-mmlab://resnet50_v1c'
    assert cfg.model.backbone.sr_cfg == dict(after_stage=2, num_memory_blocks=2,
                                             hidden_channels=16, input_size=(512, 1024))


def test_cifar_configs_use_the_papers_split_and_best_on_val():
    cfg = Config.fromfile(str(REPO / 'configs' / 'cifar100' / 'resnet18-d2d-sr_1xb128_cifar100.py'))
    assert cfg.train_dataloader.dataset.type == 'TrainValSplit'
    assert cfg.train_dataloader.dataset.part == 'train'
    assert cfg.val_dataloader.dataset.part == 'val'
    assert cfg.val_dataloader.dataset.dataset.split == 'train'
    assert cfg.test_dataloader.dataset.split == 'test'
    assert cfg.default_hooks.checkpoint.save_best == 'accuracy/top1'
    assert cfg.param_scheduler.milestones == [60, 120, 160] and cfg.param_scheduler.gamma == 0.2


def test_readme_config_table_is_computed():
    result = subprocess.run([sys.executable, str(REPO / 'tools' / 'analysis_tools' /
                                                 'config_table.py'), '--check',
                             str(REPO / 'README.md')], capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
