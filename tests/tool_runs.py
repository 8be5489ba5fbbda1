"""Running the repo's tools on shipped configs in tests: subprocess helpers and the size-only
``--cfg-options`` that shrink a shipped config for the CPU."""
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / 'tools'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def with_repo_path():
    """PYTHONPATH with the repo first (packages put on the path by hand stay after it)."""
    return os.pathsep.join([str(REPO)] + [p for p in [os.environ.get('PYTHONPATH')] if p])


def free_port() -> int:
    """A TCP port free on this machine now, for a distributed run's rendezvous (the test lanes
    run at the same time: a fixed port could be taken by the other lane's run)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(args, cwd, expect_rc=0, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'}
    env['PYTHONPATH'] = with_repo_path()
    env.update(env_extra or {})
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == expect_rc, output[-4000:]
    return output


def python(*args):
    return [sys.executable, *map(str, args)]


def loader_options(root, data_root_keys=LOADERS, workers=True):
    """The dataset folder; without ``workers``, no dataloader worker processes."""
    options = [f'{loader}.dataset.data_root={root}' for loader in data_root_keys]
    if not workers:
        options += [f'{loader}.{key}' for loader in LOADERS
                    for key in ('num_workers=0', 'persistent_workers=False')]
    return options


def cityscapes_options(root, iters=2, workers=False):
    """Size-only overrides of the shipped Cityscapes configs: 128x256 images, 64x128 crops,
    BN instead of SyncBN (one CPU process), no ImageNet-pretrained download."""
    crop = '(64,128)'
    return loader_options(root, workers=workers) + [
        'train_dataloader.dataset.pipeline.2.scale=(256,128)',
        f'train_dataloader.dataset.pipeline.3.crop_size={crop}',
        'val_dataloader.dataset.pipeline.1.scale=(256,128)',
        'test_dataloader.dataset.pipeline.1.scale=(256,128)',
        f'model.data_preprocessor.size={crop}', f'model.backbone.sr_cfg.input_size={crop}',
        'model.pretrained=None', 'model.backbone.norm_cfg.type=BN',
        'model.decode_head.norm_cfg.type=BN', 'model.auxiliary_head.norm_cfg.type=BN',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}', 'default_hooks.logger.interval=1']


def imagenet_options(root, workers=False):
    """Size-only overrides of the shipped ImageNet configs: 32x32 crops, 3 classes."""
    return loader_options(root, workers=workers) + [
        'train_dataloader.dataset.pipeline.1.scale=32',
        'val_dataloader.dataset.pipeline.1.scale=36',
        'val_dataloader.dataset.pipeline.2.crop_size=32',
        'test_dataloader.dataset.pipeline.1.scale=36',
        'test_dataloader.dataset.pipeline.2.crop_size=32',
        'model.backbone.sr_cfg.input_size=(32,32)', 'model.head.num_classes=3',
        'train_dataloader.batch_size=4', 'val_dataloader.batch_size=4',
        'test_dataloader.batch_size=4', 'val_evaluator.topk=(1,)', 'test_evaluator.topk=(1,)',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1']
