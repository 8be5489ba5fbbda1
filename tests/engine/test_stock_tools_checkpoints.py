"""Checkpoints written by the stock mmseg / mmpretrain tools under torch >= 2.6 load in the
stock ``tools/test.py`` and ``tools/train.py --resume`` once ``mmsr`` is imported through
``custom_imports`` (no weights_only=False, no environment override)."""
import os
import re
import subprocess
import sys
from pathlib import Path

from mmsr.cli.upstream_tools import upstream_tool
from mmsr.datasets import make_cityscapes_layout, make_imagenet_layout

CONFIGS = Path(__file__).resolve().parents[1] / 'data' / 'configs'



def run(args, cwd):
    env = {k: v for k, v in os.environ.items() if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'}
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def data_root_options(root):
    return ['--cfg-options'] + [f'{loader}.dataset.data_root={root}' for loader in
                                ('train_dataloader', 'val_dataloader', 'test_dataloader')]


def test_mmseg_train_resume_test(tmp_path):
    root = make_cityscapes_layout(tmp_path / 'cityscapes', num_train=4, num_val=2)
    config = str(CONFIGS / 'tiny_fcn_r18_sr_cityscapes.py')
    work_dir = tmp_path / 'work'
    options = data_root_options(root)
    run([upstream_tool('mmseg', 'train'), config, '--work-dir', str(work_dir), *options], tmp_path)
    assert (work_dir / 'iter_4.pth').is_file()
    log = run([upstream_tool('mmseg', 'train'), config, '--work-dir', str(work_dir), '--resume',
               *options, 'train_cfg.max_iters=6', 'train_cfg.val_interval=6',
               'param_scheduler.0.end=6'], tmp_path)
    assert re.search(r'[Rr]esumed checkpoint|resumed', log) and 'Iter(train) [6/6]' in log
    log = run([upstream_tool('mmseg', 'test'), config, str(work_dir / 'iter_6.pth'),
               '--work-dir', str(tmp_path / 'test'), *options], tmp_path)
    assert re.search(r'mIoU: \d', log)


def test_mmpretrain_train_resume_test(tmp_path):
    root = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=4,
                                val_per_class=2)
    config = str(CONFIGS / 'tiny_resnet18_sr_imagenet.py')
    work_dir = tmp_path / 'work'
    options = data_root_options(root)
    run([upstream_tool('mmpretrain', 'train'), config, '--work-dir', str(work_dir), *options],
        tmp_path)
    assert (work_dir / 'epoch_1.pth').is_file()
    log = run([upstream_tool('mmpretrain', 'train'), config, '--work-dir', str(work_dir),
               '--resume', *options, 'train_cfg.max_epochs=2'], tmp_path)
    assert 'resumed' in log.lower() and 'Epoch(train) [2]' in log
    log = run([upstream_tool('mmpretrain', 'test'), config, str(work_dir / 'epoch_2.pth'),
               '--work-dir', str(tmp_path / 'test'), *options], tmp_path)
    assert re.search(r'accuracy/top1: \d', log)
