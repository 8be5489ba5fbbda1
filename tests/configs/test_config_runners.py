"""Every shipped config builds its whole runner on generated data in the real on-disk layouts
(datasets, dataloaders, optimizer wrapper, parameter schedulers, hooks, evaluators), and one
config of each family runs a training iteration through all of it."""
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS, DefaultScope
from mmengine.runner import Runner

from mmsr.analysis import sr_blocks
from mmsr.datasets import (make_cifar_layout, make_cityscapes_layout, make_imagenet_layout,
                           nested_datasets)
from mmsr.utils.config import detect_codebase

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.fixture(autouse=True)
def synthetic_cifar_checksums(monkeypatch):
    """mmpretrain's CIFAR datasets check the md5 sums of the real archive's files, which
    generated pickles cannot match: clear those sums, and nothing else."""
    from mmpretrain.datasets import CIFAR10, CIFAR100
    for cifar in (CIFAR10, CIFAR100):
        monkeypatch.setattr(cifar, 'train_list', [[n, None] for n, _ in cifar.train_list])
        monkeypatch.setattr(cifar, 'test_list', [[n, None] for n, _ in cifar.test_list])
        monkeypatch.setattr(cifar, 'meta', dict(cifar.meta, md5=None))


@pytest.fixture(scope='module')
def data_roots(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    return {'CityscapesDataset': make_cityscapes_layout(root / 'cityscapes', 2, 2),
            'ImageNet': make_imagenet_layout(root / 'imagenet', 3, 2, 2),
            'CIFAR10': make_cifar_layout(root / 'cifar10', 10, 2, 1),
            'CIFAR100': make_cifar_layout(root / 'cifar100', 100, 1, 1)}


def on_generated_data(path: Path, data_roots, work_dir: Path) -> Config:
    """The shipped config with its dataset roots pointed at the generated data, no dataloader
    workers, and a temporary work dir: nothing else changed."""
    cfg = Config.fromfile(str(path))
    for loader in LOADERS:
        cfg[loader].update(num_workers=0, persistent_workers=False)
        for _, dataset in nested_datasets(cfg[loader].dataset, loader, leaves_only=True):
            dataset['data_root'] = str(data_roots[dataset['type']])
    cfg.work_dir = str(work_dir)
    return cfg


def build_everything(cfg: Config) -> Runner:
    """What ``runner.train()`` and ``runner.test()`` build before the first iteration (the
    runner as the upstream train tools build it: ``runner_type`` through ``RUNNERS``)."""
    runner = RUNNERS.build(cfg)
    with DefaultScope.overwrite_default_scope(detect_codebase(cfg)):
        runner._train_loop = runner.build_train_loop(runner._train_loop)
        runner._val_loop = runner.build_val_loop(runner._val_loop)
        runner._test_loop = runner.build_test_loop(runner._test_loop)
        runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
        runner.param_schedulers = runner.build_param_scheduler(runner.param_schedulers)
    return runner


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_every_config_builds_its_whole_runner(path, data_roots, tmp_path):
    runner = build_everything(on_generated_data(path, data_roots, tmp_path))
    for loop in (runner.train_loop, runner.val_loop, runner.test_loop):
        assert len(loop.dataloader.dataset) > 0
    assert runner.val_loop.evaluator.metrics and runner.test_loop.evaluator.metrics
    assert runner.optim_wrapper.optimizer.param_groups[0]['lr'] > 0
    assert runner.param_schedulers, 'no learning-rate schedule'
    # Exact, kill-proof resume (README, Guarantees): the runner, its seeding and its checkpoints.
    assert type(runner).__name__ == 'ResumableRunner'
    hooks = {type(hook).__name__ for hook in runner.hooks}
    assert {'AtomicCheckpointHook', 'StepSeedHook', 'LoggerHook', 'ParamSchedulerHook'} <= hooks
    assert 'CheckpointHook' not in hooks
    # Checked test data also under mmseg's test.py, which builds a plain Runner.
    assert type(runner.test_loop).__name__ == 'CheckedTestLoop'
    model = runner.model
    assert bool(sr_blocks(model)) == (runner.cfg.model.backbone.get('sr_cfg') is not None)


def small_cityscapes(cfg: Config) -> None:
    """Size-only overrides for one CPU iteration: 64x128 crops of 128x256 images, BN (one
    process), no ImageNet-pretrained download, batch 2."""
    crop = (64, 128)
    cfg.train_dataloader.dataset.pipeline[2].scale = (256, 128)
    cfg.train_dataloader.dataset.pipeline[3].crop_size = crop
    cfg.model.data_preprocessor.size = crop
    cfg.model.backbone.sr_cfg.input_size = crop
    cfg.model.pretrained = None
    for part in ('backbone', 'decode_head', 'auxiliary_head'):
        cfg.model[part].norm_cfg = dict(type='BN', requires_grad=True)


FAMILIES = {
    'deeplabv3_r50_sr_cityscapes.py': small_cityscapes,  # Cityscapes
    'imagenet/resnet50-d2d-sr_8xb32-450e_in1k.py': None,  # ImageNet, D2D
    'imagenet/resnet50-db-sr_8xb32-450e_in1k.py': None,  # ImageNet, DB
    'cifar100/resnet18-d-sr_1xb128_cifar100.py': None,  # CIFAR-100, D
    'cifar100/resnet18-se-sr_1xb128_cifar100.py': None,  # SE
    'cifar100/resnet18-cbam-sr_1xb128_cifar100.py': None,  # CBAM
    'cifar10/resnet18-d2d-sr_1xb128_cifar10.py': None,  # CIFAR-10
    'cifar10/vgg16bn-sr_1xb128_cifar10.py': None,  # VGG
}


@pytest.mark.parametrize('name', FAMILIES)
def test_one_training_iteration_per_family(name, data_roots, tmp_path):
    cfg = on_generated_data(REPO / 'configs' / name, data_roots, tmp_path)
    cfg.train_dataloader.batch_size = 2
    if FAMILIES[name]:
        FAMILIES[name](cfg)
    runner = build_everything(cfg)
    model = runner.model
    model.init_weights()
    block = sr_blocks(model)[0][1]
    assert not block.memory.any()  # the identity start
    data = next(iter(runner.train_loop.dataloader))
    model.train()
    with DefaultScope.overwrite_default_scope(detect_codebase(cfg)):
        losses = model.train_step(data, runner.optim_wrapper)
        for scheduler in runner.param_schedulers:
            scheduler.step()
    loss = sum(value for key, value in losses.items() if 'loss' in key)
    assert math.isfinite(float(loss))
    assert block.memory.any(), 'the SR memory did not learn in the first step'
    assert all(torch.isfinite(p).all() for p in model.parameters())
