"""The repo's tools/train.py, tools/test.py, tools/dist_train.sh and dist_test.sh, end to end on
the CPU.

Each test runs a *shipped* config, changed only in sizes (and SyncBN -> BN, no pretrained
download) through ``--cfg-options``, on a small dataset generated in the real on-disk layout,
and tests and evaluates its checkpoints with our ``tools/test.py`` and the stock mmseg /
mmpretrain ``tools/test.py``. The trainings are the suite's reference runs
(``tests/reference_runs.py``), shared with the kill-and-resume tests that show resuming. A user's own config that inherits a stock
``mmseg::`` config with ``custom_imports`` is trained with the stock tools in
``tests/test_install.py``.
"""
import os
import pickle
import re
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmsr.analysis import build_model
from mmsr.cli.upstream_tools import upstream_tool
from mmsr.datasets import make_cifar_layout
from reference_runs import CIFAR_RUNNER, cifar_options, train
from tool_runs import REPO, TOOLS, cityscapes_options, free_port, python, run, with_repo_path

EXIT_REPORT = Path(__file__).resolve().parent / 'exit_report'


@pytest.mark.xdist_group('fcn_dist_run')
def test_fcn_sr_cityscapes_test_tools(fcn_dist_run, tmp_path):
    """A checkpoint of FCN + SR tested whole-image, by the stock mmseg test.py, by
    ``tools/dist_test.sh`` with 2 CPU processes, sliding-window and with the config's
    multi-scale flip (``--tta``). The 2 processes release their model wrapper, and so their
    process group, before the interpreter's exit (``exit_report/sitecustomize.py``)."""
    config, checkpoint = fcn_dist_run.config, fcn_dist_run.work / 'iter_2.pth'
    options = ['--cfg-options', *fcn_dist_run.options]
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
    log = run(['bash', TOOLS / 'dist_test.sh', config, checkpoint, '2', '--work-dir',
               tmp_path / 'dist', *options], tmp_path,
              env_extra={'PYTHON': sys.executable, 'PORT': str(free_port()), 'OMP_NUM_THREADS': '1',
                         'CUDA_VISIBLE_DEVICES': '',
                         'PYTHONPATH': os.pathsep.join([with_repo_path(), str(EXIT_REPORT)])})
    assert 'GPU number: 2' in log
    alive = dict(re.findall(r'exit report: rank (\d): (\d+) DistributedDataParallel alive', log))
    assert alive == {'0': '0', '1': '0'}, log[-3000:]
    results['dist'] = float(re.findall(r'mIoU: ([\d.]+)', log)[-1])
    # Our tool runs the stock script: same checkpoint, same data, same number; distributed
    # testing gathers both halves of the val set: the same number again.
    assert results['whole'] == results['stock'] == results['dist']
    assert all(0.0 <= value <= 100.0 for value in results.values())


@pytest.mark.xdist_group('deeplabv3_run')
def test_deeplabv3_sr_cityscapes_tests(deeplabv3_run, tmp_path):
    log = run(python(TOOLS / 'test.py', deeplabv3_run.config, deeplabv3_run.work / 'iter_12.pth',
                     '--work-dir', tmp_path / 'test', '--cfg-options', *deeplabv3_run.options),
              tmp_path)
    assert re.search(r'mIoU: \d', log)


@pytest.mark.xdist_group('resnet50_run')
def test_resnet50_sr_imagenet_test_and_sr_off(resnet50_run, tmp_path):
    config, work = resnet50_run.config, resnet50_run.work
    options = ['--cfg-options', *resnet50_run.options]
    top1 = {}
    for name, tool in (('ours', TOOLS / 'test.py'), ('stock', upstream_tool('mmpretrain', 'test'))):
        log = run(python(tool, config, work / 'epoch_4.pth', '--work-dir', tmp_path / name,
                         *options), tmp_path)
        top1[name] = float(re.findall(r'accuracy/top1: ([\d.]+)', log)[-1])
    assert top1['ours'] == top1['stock']

    # --sr-off is exactly the checkpoint with its memory zeroed, and not the checkpoint as it
    # is. (The classifier is scaled so that its logits are of order 1: saturated one-hot scores
    # would hide any difference.)
    checkpoint = torch.load(work / 'epoch_4.pth', map_location='cpu', weights_only=False)
    scale = logit_scale(work / config.name, work / 'epoch_4.pth')
    for key in ('head.fc.weight', 'head.fc.bias'):
        checkpoint['state_dict'][key] /= scale
    memory = checkpoint['state_dict']['backbone.layer3.sr_block.memory']
    torch.manual_seed(0)
    for name, value in (('strong', torch.randn_like(memory) * 10),
                        ('zero', torch.zeros_like(memory))):
        checkpoint['state_dict']['backbone.layer3.sr_block.memory'] = value
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


def logit_scale(config, checkpoint):
    """The largest logit of a classifier checkpoint on random 32x32 inputs."""
    model = build_model(Config.fromfile(str(config)))
    load_checkpoint(model, str(checkpoint), map_location='cpu', logger='silent')
    with torch.no_grad():
        features = model.eval().extract_feat(torch.randn(4, 3, 32, 32))
        return float(model.head.fc(features[-1]).abs().max())


def check_cifar_run(cifar_run, num_classes, tmp_path):
    """Training and validation read the two parts of the split (TrainValSplit wraps the
    dataset); only the best checkpoint on val is kept as best; ours and the stock test.py test
    it on the test split."""
    # The 90/10 split of the 200 training pictures: 180 to train (6 batches), 20 to validate.
    assert 'Epoch(train) [2][6/6]' in cifar_run.log and 'Epoch(val) [2][1/1]' in cifar_run.log
    best = sorted(cifar_run.work.glob('best_accuracy_top1_epoch_*.pth'))
    assert len(best) == 1, sorted(p.name for p in cifar_run.work.iterdir())
    for index, tool in enumerate((TOOLS / 'test.py', upstream_tool('mmpretrain', 'test'))):
        log = run(python(CIFAR_RUNNER, tool, cifar_run.config, best[0], '--work-dir',
                         tmp_path / f'test{index}', '--cfg-options', *cifar_run.options),
                  tmp_path)
        assert re.search(rf'Epoch\(test\) \[{num_classes // 32 + 1}/{num_classes // 32 + 1}\]'
                         r'.*accuracy/top1: \d', log)


@pytest.mark.xdist_group('cifar100_run')
def test_cifar100_resnet18_train_best_on_val_and_test(cifar100_run, tmp_path):
    check_cifar_run(cifar100_run, 100, tmp_path)


def test_cifar10_vgg16_train_best_on_val_and_test(tmp_path):
    data = make_cifar_layout(tmp_path / 'cifar', num_classes=10, train_per_class=20,
                             test_per_class=1)
    check_cifar_run(train('cifar10/vgg16bn-sr_1xb128_cifar10.py', data, tmp_path / 'work',
                          cifar_options(data), tmp_path, runner=[CIFAR_RUNNER]), 10, tmp_path)


@pytest.mark.xdist_group('fcn_dist_run')
def test_dist_train_two_cpu_processes(fcn_dist_run):
    assert 'Distributed training: True' in fcn_dist_run.log
    assert 'Distributed training is not used' not in fcn_dist_run.log
    assert 'GPU number: 2' in fcn_dist_run.log  # mmengine's name for the world size
    assert (fcn_dist_run.work / 'iter_2.pth').is_file()


def test_dist_train_refuses_syncbn_on_the_cpu(tmp_path):
    options = [arg for arg in cityscapes_options(tmp_path / 'no-data') if 'norm_cfg' not in arg]
    log = run(['bash', TOOLS / 'dist_train.sh', REPO / 'configs' / 'fcn_r50_sr_cityscapes.py',
               '2', '--work-dir', tmp_path / 'work', '--cfg-options', *options], tmp_path,
              expect_rc=1, env_extra={'PYTHON': sys.executable, 'PORT': str(free_port()),
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
