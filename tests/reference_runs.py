"""The suite's trainings that several tests read: each runs once per test session (pytest
fixtures, made available by ``conftest.py``), and every test that needs such a checkpoint or log
uses these instead of training again. Each is a shipped config, changed only in sizes through
``--cfg-options``, trained by the repo's tools on data generated in the real on-disk layout.

Under pytest-xdist the tests that share a run are kept on one worker by their ``xdist_group``
mark (``make test`` runs ``--dist loadgroup``), so a run is never made twice.
"""
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List

import pytest

from mmsr.datasets import make_cifar_layout, make_cityscapes_layout, make_imagenet_layout
from tool_runs import (REPO, TOOLS, cityscapes_options, free_port, imagenet_options,
                       loader_options, python, run)

KILL_POINTS = Path(__file__).resolve().parent / 'reliability' / 'kill_points'
# The ResNets a quarter as wide as shipped (stem and base width 16 instead of 64; the heads'
# inputs follow, the segmentation heads at 64 channels instead of 512/256): widths only - the
# depth, the stages, the SR placement and every other setting are the shipped ones. A sixteenth
# of the weights: a ResNet-50 checkpoint of about 20 MB instead of 230 MB, and each training
# process in about half the time.
NARROW_RESNET = ['model.backbone.stem_channels=16', 'model.backbone.base_channels=16']
NARROW_SEGMENTOR = NARROW_RESNET + [
    'model.decode_head.in_channels=512', 'model.auxiliary_head.in_channels=256',
    'model.decode_head.channels=64', 'model.auxiliary_head.channels=64']
NARROW_RESNET50_CLASSIFIER = NARROW_RESNET + ['model.head.in_channels=512']
NARROW_RESNET18_CLASSIFIER = NARROW_RESNET + ['model.head.in_channels=128']
CIFAR_RUNNER = Path(__file__).resolve().parent / 'tools' / 'run_with_synthetic_cifar.py'


@dataclass
class Run:
    """A finished training: its config, data folder, work dir, the ``--cfg-options`` values
    it ran with (the same values make a test of its checkpoints read the same data), the
    command that trains it, and its log."""
    config: Path
    data: Path
    work: Path
    options: List[str]
    command: List[str]
    log: str

    def command_in(self, work: Path) -> List[str]:
        """The same training command, writing to ``work``."""
        return [str(work) if str(arg) == str(self.work) else arg for arg in self.command]

    def copy_of_data(self, folder: Path) -> Path:
        """A copy of the data (for a test that damages it)."""
        return Path(shutil.copytree(self.data, folder / self.data.name))

    def options_for(self, data: Path) -> List[str]:
        """The run's ``--cfg-options`` values, reading ``data`` instead of its data folder."""
        return [option.replace(str(self.data), str(data)) for option in self.options]


def train_env(kill=None, rank=None):
    """The environment of the kill-and-resume runs: one thread, no GPU, the kill points on the
    path (armed only by ``MMSR_KILL_AT``)."""
    env = {'PYTHONPATH': os.pathsep.join([str(REPO), str(KILL_POINTS)]),
           'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': ''}
    if kill:
        env['MMSR_KILL_AT'] = kill
    if rank is not None:
        env['MMSR_KILL_RANK'] = str(rank)
    return env


def train(config, data, work, options, cwd, runner=()):
    """``tools/train.py --resume`` on ``configs/<config>`` (through ``runner``, a script that
    runs the tool, when given) in the kill-and-resume runs' environment."""
    command = python(*runner, TOOLS / 'train.py', REPO / 'configs' / config, '--work-dir', work,
                     '--resume', '--cfg-options', *options)
    log = run(command, cwd, env_extra=train_env())
    return Run(REPO / 'configs' / config, data, work, options, command, log)


@pytest.fixture(scope='session')
def deeplabv3_run(tmp_path_factory):
    """DeepLabV3 + SR, 12 iterations (checkpoints after 3, 6, 9, 12; validation after 6 and
    12), dataloader workers as shipped, narrowed (:data:`NARROW_SEGMENTOR`)."""
    root = tmp_path_factory.mktemp('deeplabv3_run')
    data = make_cityscapes_layout(root / 'cityscapes', num_train=4, num_val=2)
    options = cityscapes_options(data, iters=12, workers=True) + [
        'train_cfg.val_interval=6', 'default_hooks.checkpoint.interval=3',
        'val_dataloader.num_workers=1', 'randomness.seed=0', *NARROW_SEGMENTOR]
    return train('deeplabv3_r50_sr_cityscapes.py', data, root / 'work', options, root)


@pytest.fixture(scope='session')
def resnet50_run(tmp_path_factory):
    """ResNet-50 + SR on ImageNet's layout: 12 images, 4 a batch, 4 epochs of 3 iterations,
    2 workers that persist across epochs, narrowed (:data:`NARROW_RESNET50_CLASSIFIER`)."""
    root = tmp_path_factory.mktemp('resnet50_run')
    data = make_imagenet_layout(root / 'imagenet', num_classes=3, train_per_class=4,
                                val_per_class=2)
    options = imagenet_options(data, workers=True) + [
        'train_cfg.max_epochs=4', 'train_dataloader.num_workers=2',
        'train_dataloader.persistent_workers=True', 'val_dataloader.num_workers=1',
        'randomness.seed=0', *NARROW_RESNET50_CLASSIFIER]
    return train('resnet50_sr_in1k.py', data, root / 'work', options, root)


@pytest.fixture(scope='session')
def fcn_dist_run(tmp_path_factory):
    """FCN + SR, 2 iterations, trained by ``tools/dist_train.sh`` with 2 CPU processes,
    narrowed (:data:`NARROW_SEGMENTOR`)."""
    root = tmp_path_factory.mktemp('fcn_dist_run')
    data = make_cityscapes_layout(root / 'cityscapes', num_train=4, num_val=2)
    options = cityscapes_options(data) + NARROW_SEGMENTOR
    config = REPO / 'configs' / 'fcn_r50_sr_cityscapes.py'
    command = ['bash', TOOLS / 'dist_train.sh', config, '2', '--work-dir', root / 'work',
               '--cfg-options', *options]
    log = run(command, root, env_extra={'PYTHON': sys.executable, 'PORT': str(free_port()),
                                        'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': ''})
    return Run(config, data, root / 'work', options, command, log)


def cifar_options(root):
    """The CIFAR configs on 200 generated training pictures (180 train / 20 val after the
    split), 2 epochs of batch 32, loading in the main process."""
    return [*loader_options(root, ['test_dataloader'], workers=False),
            f'train_dataloader.dataset.dataset.data_root={root}',
            f'val_dataloader.dataset.dataset.data_root={root}', 'train_dataloader.batch_size=32',
            'val_dataloader.batch_size=32', 'test_dataloader.batch_size=32',
            'train_cfg.max_epochs=2', 'default_hooks.logger.interval=1', 'randomness.seed=0']


@pytest.fixture(scope='session')
def cifar100_run(tmp_path_factory):
    """ResNet-18 + D2D + SR on CIFAR-100, as :func:`cifar_options` says, narrowed
    (:data:`NARROW_RESNET18_CLASSIFIER`)."""
    root = tmp_path_factory.mktemp('cifar100_run')
    data = make_cifar_layout(root / 'cifar', num_classes=100, train_per_class=2,
                             test_per_class=1)
    return train('cifar100/resnet18-d2d-sr_1xb128_cifar100.py', data, root / 'work',
                 cifar_options(data) + NARROW_RESNET18_CLASSIFIER, root, runner=[CIFAR_RUNNER])
