"""Resume on a CUDA device (marker ``gpu``): ``tools/dist_train.sh CONFIG 1`` (NCCL, SyncBN,
``ResumableRunner``) on a shipped Cityscapes config, 4 iterations straight against 2 + ``--resume``
to 4. CUDA's nondeterministic kernels (cuDNN's benchmarked convolutions, atomics in the
bilinear upsampling's backward) make two uninterrupted runs differ in the last bits, so the
resumed run is held to that: it may differ from the straight run by no more than ten times what
a second straight run does (bit for bit where the two straight runs agree bit for bit)."""
import sys

import pytest
import torch

from mmsr.analysis.train_log import read_train_records
from mmsr.datasets import make_cityscapes_layout
from tool_runs import REPO, TOOLS, cityscapes_options, free_port, run

CONFIG = REPO / 'configs' / 'fcn_r50_sr_cityscapes.py'


def dist_train(work, root, tmp_path, iters, *extra):
    options = [arg for arg in cityscapes_options(root, iters=iters) if 'norm_cfg' not in arg]
    run(['bash', TOOLS / 'dist_train.sh', CONFIG, '1', '--work-dir', work, *extra,
         '--cfg-options', *options, 'default_hooks.checkpoint.interval=2',
         'train_cfg.val_interval=100', 'randomness.seed=0'], tmp_path,
        env_extra={'PYTHON': sys.executable, 'PORT': str(free_port())})
    losses = {record['step']: record['loss'] for record in read_train_records(work)}
    weights = torch.load(work / f'iter_{iters}.pth', map_location='cpu',
                         weights_only=False)['state_dict']
    return losses, weights


def largest_difference(a, b):
    losses = max(abs(a[0][step] - b[0][step]) for step in a[0])
    weights = max((x.double() - y.double()).abs().max().item()
                  for x, y in zip(a[1].values(), b[1].values()) if x.is_floating_point())
    return losses, weights


@pytest.mark.gpu
def test_resume_on_cuda_within_the_gpus_own_run_to_run_difference(tmp_path):
    root = make_cityscapes_layout(tmp_path / 'cityscapes', num_train=4, num_val=1)
    straight = dist_train(tmp_path / 'straight', root, tmp_path, 4)
    again = dist_train(tmp_path / 'again', root, tmp_path, 4)
    dist_train(tmp_path / 'resumed', root, tmp_path, 2)
    resumed = dist_train(tmp_path / 'resumed', root, tmp_path, 4, '--resume')
    assert sorted(straight[0]) == sorted(resumed[0]) == [1, 2, 3, 4]
    assert straight[1].keys() == resumed[1].keys()
    assert any('sr_block.memory' in key for key in straight[1])
    run_to_run = largest_difference(straight, again)
    resume = largest_difference(straight, resumed)
    print(f'cuda resume: straight vs straight again: losses {run_to_run[0]:.3g}, weights '
          f'{run_to_run[1]:.3g}; straight vs resumed: losses {resume[0]:.3g}, weights '
          f'{resume[1]:.3g}')
    assert resume[0] <= 10 * run_to_run[0] and resume[1] <= 10 * run_to_run[1]
