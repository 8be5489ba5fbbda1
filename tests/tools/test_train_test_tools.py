"""The repo's tools/train.py, tools/test.py and tools/dist_train.sh, end to end on the CPU.

Each test runs a *shipped* config, changed only in sizes (and SyncBN -> BN, no pretrained
download) through ``--cfg-options``, on a small dataset generated in the real on-disk layout:
train a few iterations, save, resume, then test and evaluate with our ``tools/test.py`` and the
stock mmseg / mmpretrain ``tools/test.py``. A user's own config that inherits a stock
``mmseg::`` config with ``custom_imports`` is trained with the stock tools in
``tests/engine/test_stock_tools_checkpoints.py``.
"""
import os
import pickle
import re
import sys
from pathlib import Path

import pytest
import torch

from mmsr.cli.upstream_tools import upstream_tool
from mmsr.datasets import make_cifar_layout, make_cityscapes_layout, make_imagenet_layout
from tool_runs import (REPO, TOOLS, cityscapes_options, imagenet_options, loader_options, python,
                       run)

CIFAR_RUNNER = Path(__file__).with_name('run_with_synthetic_cifar.py')


@pytest.fixture(scope='module')
def cityscapes(tmp_path_factory):
    return make_cityscapes_layout(tmp_path_factory.mktemp('data') / 'cityscapes', num_train=4,
                                  num_val=2)


def test_fcn_sr_cityscapes_train_resume_test(cityscapes, tmp_path):
    config = REPO / 'configs' / 'fcn_r50_sr_cityscapes.py'
    work = tmp_path / 'work'
    options = ['--cfg-options', *cityscapes_options(cityscapes)]
    run(python(TOOLS / 'train.py', config, '--work-dir', work, *options), tmp_path)
    assert (work / 'iter_2.pth').is_file()
    log = run(python(TOOLS / 'train.py', config, '--work-dir', work, '--resume', *options,
                     'train_cfg.max_iters=4', 'train_cfg.val_interval=4'), tmp_path)
    assert 'resumed' in log.lower() and 'Iter(train) [4/' in log
    checkpoint = work / 'iter_4.pth'
    results = {}
    for name, tool, extra in (
            ('whole', TOOLS / 'test.py', []),
            ('stock', upstream_tool('mmseg', 'test'), []),
            ('slide', TOOLS / 'test.py', ['model.test_cfg.mode=slide',
                                          'model.test_cfg.crop_size=(64,128)',
                                          'model.test_cfg.stride=(43,85)']),
            ('tta', TOOLS / 'test.py', ['--tta'])):
        extra_options = [arg for arg in extra if arg != '--tta']
        tta = ['--tta'] if '--tta' in extra else []
        log = run(python(tool, config, checkpoint, '--work-dir', tmp_path / name, *tta,
                         *options, *extra_options), tmp_path)
        results[name] = float(re.findall(r'mIoU: ([\d.]+)', log)[-1])
    # Our tool runs the stock script: same checkpoint, same data, same number.
    assert results['whole'] == results['stock']
    assert all(0.0 <= value <= 100.0 for value in results.values())


def test_deeplabv3_sr_cityscapes_trains_and_tests(cityscapes, tmp_path):
    config = REPO / 'configs' / 'deeplabv3_r50_sr_cityscapes.py'
    options = ['--cfg-options', *cityscapes_options(cityscapes, iters=1)]
    run(python(TOOLS / 'train.py', config, '--work-dir', tmp_path / 'work', *options), tmp_path)
    log = run(python(TOOLS / 'test.py', config, tmp_path / 'work' / 'iter_1.pth', '--work-dir',
                     tmp_path / 'test', *options), tmp_path)
    assert re.search(r'mIoU: \d', log)


def test_resnet50_sr_imagenet_train_resume_test_and_sr_off(tmp_path):
    root = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=4,
                                val_per_class=2)
    config = REPO / 'configs' / 'resnet50_sr_in1k.py'
    work = tmp_path / 'work'
    options = ['--cfg-options', *imagenet_options(root)]
    run(python(TOOLS / 'train.py', config, '--work-dir', work, *options), tmp_path)
    log = run(python(TOOLS / 'train.py', config, '--work-dir', work, '--resume', *options,
                     'train_cfg.max_epochs=2'), tmp_path)
    assert 'resumed' in log.lower() and 'Epoch(train) [2]' in log
    top1 = {}
    for name, tool in (('ours', TOOLS / 'test.py'), ('stock', upstream_tool('mmpretrain', 'test'))):
        log = run(python(tool, config, work / 'epoch_2.pth', '--work-dir', tmp_path / name,
                         *options), tmp_path)
        top1[name] = float(re.findall(r'accuracy/top1: ([\d.]+)', log)[-1])
    assert top1['ours'] == top1['stock']

    # --sr-off is exactly the checkpoint with its memory zeroed, and not the checkpoint as it
    # is. (The classifier is scaled down so that the scores are not saturated one-hot vectors,
    # which would hide any difference.)
    checkpoint = torch.load(work / 'epoch_2.pth', map_location='cpu', weights_only=False)
    checkpoint['state_dict']['head.fc.weight'] *= 1e-3
    memory = checkpoint['state_dict']['backbone.sr_block.memory']
    torch.manual_seed(0)
    for name, value in (('strong', torch.randn_like(memory) * 10),
                        ('zero', torch.zeros_like(memory))):
        checkpoint['state_dict']['backbone.sr_block.memory'] = value
        torch.save(checkpoint, tmp_path / f'{name}.pth')
    scores = {}
    for name, ckpt, extra in (('on', 'strong', []), ('off', 'strong', ['--sr-off']),
                              ('zeroed', 'zero', [])):
        run(python(TOOLS / 'test.py', config, tmp_path / f'{ckpt}.pth', '--work-dir',
                   tmp_path / name, '--out', tmp_path / f'{name}.pkl', *extra, *options),
            tmp_path)
        with open(tmp_path / f'{name}.pkl', 'rb') as f:
            scores[name] = torch.stack([torch.as_tensor(r['pred_score']) for r in pickle.load(f)])
    assert scores['off'].shape == (6, 3)
    assert torch.equal(scores['off'], scores['zeroed'])
    assert not torch.equal(scores['on'], scores['zeroed'])


@pytest.mark.parametrize('config, num_classes', [
    ('cifar100/resnet18-d2d-sr_1xb128_cifar100.py', 100),
    ('cifar10/vgg16bn-sr_1xb128_cifar10.py', 10),
])
def test_cifar_train_best_on_val_and_test(config, num_classes, tmp_path):
    root = make_cifar_layout(tmp_path / 'cifar', num_classes=num_classes,
                             train_per_class=200 // num_classes, test_per_class=1)
    config = REPO / 'configs' / config
    work = tmp_path / 'work'
    # Training and validation read the two parts of the split (TrainValSplit wraps the dataset).
    options = ['--cfg-options', *loader_options(root, ['test_dataloader'], workers=False),
               f'train_dataloader.dataset.dataset.data_root={root}',
               f'val_dataloader.dataset.dataset.data_root={root}', 'train_dataloader.batch_size=32',
               'val_dataloader.batch_size=32', 'test_dataloader.batch_size=32',
               'train_cfg.max_epochs=2', 'default_hooks.logger.interval=1']
    log = run(python(CIFAR_RUNNER, TOOLS / 'train.py', config, '--work-dir', work, *options),
              tmp_path)
    # The 90/10 split of the 200 training pictures: 180 to train (6 batches), 20 to validate.
    assert 'Epoch(train) [2][6/6]' in log and 'Epoch(val) [2][1/1]' in log
    best = sorted(work.glob('best_accuracy_top1_epoch_*.pth'))
    assert len(best) == 1, sorted(p.name for p in work.iterdir())
    for tool in (TOOLS / 'test.py', upstream_tool('mmpretrain', 'test')):
        log = run(python(CIFAR_RUNNER, tool, config, best[0], *options), tmp_path)
        assert re.search(rf'Epoch\(test\) \[{num_classes // 32 + 1}/{num_classes // 32 + 1}\]'
                         r'.*accuracy/top1: \d', log)


def test_dist_train_and_test_two_cpu_processes(cityscapes, tmp_path):
    config = REPO / 'configs' / 'fcn_r50_sr_cityscapes.py'
    work = tmp_path / 'work'
    log = run(['bash', TOOLS / 'dist_train.sh', config, '2', '--work-dir', work,
               '--cfg-options', *cityscapes_options(cityscapes)], tmp_path,
              env_extra={'PYTHON': sys.executable, 'PORT': '29617', 'OMP_NUM_THREADS': '1',
                         'CUDA_VISIBLE_DEVICES': ''})
    assert 'Distributed training: True' in log and 'Distributed training is not used' not in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert (work / 'iter_2.pth').is_file()
    # Distributed testing gathers both halves of the val set: the same mIoU as one process.
    options = ['--cfg-options', *cityscapes_options(cityscapes)]
    log = run(['bash', TOOLS / 'dist_test.sh', config, work / 'iter_2.pth', '2',
               '--work-dir', tmp_path / 'dist_test', *options], tmp_path,
              env_extra={'PYTHON': sys.executable, 'PORT': '29619', 'OMP_NUM_THREADS': '1',
                         'CUDA_VISIBLE_DEVICES': ''})
    assert 'GPU number: 2' in log
    single = run(python(TOOLS / 'test.py', config, work / 'iter_2.pth', '--work-dir',
                        tmp_path / 'test', *options), tmp_path)
    miou = [re.findall(r'mIoU: ([\d.]+)', text)[-1] for text in (log, single)]
    assert miou[0] == miou[1]


def test_dist_train_refuses_syncbn_on_the_cpu(cityscapes, tmp_path):
    options = [arg for arg in cityscapes_options(cityscapes) if 'norm_cfg' not in arg]
    log = run(['bash', TOOLS / 'dist_train.sh', REPO / 'configs' / 'fcn_r50_sr_cityscapes.py',
               '2', '--work-dir', tmp_path / 'work', '--cfg-options', *options], tmp_path,
              expect_rc=1, env_extra={'PYTHON': sys.executable, 'PORT': '29618',
                                        'CUDA_VISIBLE_DEVICES': ''})
    assert 'SyncBN needs CUDA' in log
    assert 'model.backbone.norm_cfg.type=BN' in log and 'model.decode_head.norm_cfg.type=BN' in log


def test_slurm_scripts_pass_both_upstream_command_lines(tmp_path):
    """The srun command line the scripts build (srun itself is replaced by a stand-in that
    prints its arguments: no Slurm cluster here)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text('#!/usr/bin/env bash\necho "$@"\n')
    (bin_dir / 'srun').chmod(0o755)
    env = {'PATH': f'{bin_dir}:{os.environ["PATH"]}', 'GPUS': '8', 'GPUS_PER_NODE': '8'}
    config = 'configs/resnet50_sr_in1k.py'
    mmpretrain_form = run(['bash', TOOLS / 'slurm_train.sh', 'part', 'job', config, 'work',
                           '--amp'], REPO, env_extra=env)
    assert f'train.py {config} --work-dir=work --launcher=slurm --amp' in mmpretrain_form
    assert '--ntasks=8' in mmpretrain_form and '--gres=gpu:8' in mmpretrain_form
    mmseg_form = run(['bash', TOOLS / 'slurm_train.sh', 'part', 'job', config, '--amp'], REPO,
                     env_extra=env)
    assert f'train.py {config} --launcher=slurm --amp' in mmseg_form
    test_form = run(['bash', TOOLS / 'slurm_test.sh', 'part', 'job', config, 'x.pth', '--tta'],
                    REPO, env_extra=env)
    assert f'test.py {config} x.pth --launcher=slurm --tta' in test_form
