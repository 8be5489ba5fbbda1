"""Killed runs resume exactly: shipped configs (sizes shrunk by ``--cfg-options``, dataloader
workers as shipped) on generated data, ``tools/train.py`` killed with SIGKILL at 10 points spread
over a 12-iteration run - 6 of them while a checkpoint is written - and restarted with
``--resume`` after each; then the newest checkpoint is truncated and the run resumes once more.
The final weights, the optimizer state and every logged training value (each attempt at each
step) equal an uninterrupted run bit for bit. ``tools/dist_train.sh`` with 2 CPU processes
holds the same with one rank killed, 5 times; a CIFAR run killed while it writes its best
checkpoint ends with the best checkpoint of a run never stopped. The uninterrupted runs are the
suite's reference runs (``tests/reference_runs.py``). The kills come from
``kill_points/sitecustomize.py``."""
import json
import re
import sys
from pathlib import Path

import pytest
import torch

from mmsr.datasets import make_imagenet_layout
from reference_runs import NARROW_RESNET50_CLASSIFIER, train_env
from tool_runs import REPO, TOOLS, free_port, imagenet_options, run

# <point>:<iteration> (see kill_points/sitecustomize.py). Checkpoints are saved after
# iterations 3, 6, 9 and 12; each kill lands after the checkpoint the previous one left.
KILLS = ['train:1', 'checkpoint-half:2', 'checkpoint-written:2', 'pointer:2', 'train:4', 'val:5',
         'save:6', 'pointer-written:6', 'train:10', 'checkpoint-half:10']
WRITING = {'checkpoint-half', 'checkpoint-written', 'pointer', 'save', 'pointer-written'}
UNTIMED = ('time', 'data_time', 'eta', 'memory')


def logged(work):
    """{step: [values logged at that step by each attempt]} for the training log lines."""
    steps = {}
    for path in sorted(work.glob('*/vis_data/scalars.json')):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                values = {k: v for k, v in record.items() if k not in UNTIMED}
                steps.setdefault(record['step'], []).append(values)
    return steps


def final_state(path):
    checkpoint = torch.load(path, map_location='cpu', weights_only=False)
    return checkpoint['state_dict'], checkpoint['optimizer']


def assert_equal_states(a, b):
    (weights_a, optim_a), (weights_b, optim_b) = a, b
    assert weights_a.keys() == weights_b.keys()
    for key in weights_a:
        assert torch.equal(weights_a[key], weights_b[key]), key
    assert repr(optim_a['param_groups']) == repr(optim_b['param_groups'])
    for key, state in optim_a['state'].items():
        for name, value in state.items():
            assert torch.equal(value, optim_b['state'][key][name]), (key, name)


def kill_and_resume(command, work, cwd, kills):
    """Run ``command`` once per kill point, killed there (SIGKILL: return code -9), then to the
    end; after each kill, ``last_checkpoint`` names a complete file."""
    for kill in kills:
        run(command, cwd, expect_rc=-9, env_extra=train_env(kill))
        pointer = work / 'last_checkpoint'
        if pointer.exists():
            assert torch.load(pointer.read_text().strip(), map_location='cpu',
                              weights_only=False)['state_dict']
    # A latest checkpoint truncated behind the runner's back (a full disk, a copy cut short):
    # resume falls back to the newest complete one and says so, naming both.
    latest = Path((work / 'last_checkpoint').read_text().strip())
    latest.write_bytes(latest.read_bytes()[:1000])
    log = run(command, cwd, env_extra=train_env())
    assert re.search(rf'names {re.escape(str(latest))}, which is truncated or corrupt; '
                     r'resuming from the newest complete checkpoint \S+', log), log[-3000:]


def assert_resumed_exactly(straight_work, killed_work, last):
    straight, killed = logged(straight_work), logged(killed_work)
    assert sorted(straight) == sorted(killed) == list(range(1, 13))
    for step, attempts in killed.items():
        assert all(a == straight[step][0] for a in attempts), (step, attempts, straight[step])
    assert_equal_states(final_state(straight_work / last), final_state(killed_work / last))


def check_kills(kills):
    assert len(kills) >= 10 and sum(k.split(':')[0] in WRITING for k in kills) >= 3


def sigkill_at_ten_points_then_resume(reference, tmp_path, last):
    """Kill ``reference``'s training command at :data:`KILLS`, resume after each, then compare
    with ``reference`` (the same command, never stopped)."""
    check_kills(KILLS)
    killed = tmp_path / 'killed'
    kill_and_resume(reference.command_in(killed), killed, tmp_path, KILLS)
    assert_resumed_exactly(reference.work, killed, last)
    assert not list(killed.glob('*.partial'))


@pytest.mark.xdist_group('deeplabv3_run')
def test_deeplabv3_sigkill_at_ten_points_then_resume_is_exact(deeplabv3_run, tmp_path):
    sigkill_at_ten_points_then_resume(deeplabv3_run, tmp_path, 'iter_12.pth')


@pytest.mark.xdist_group('resnet50_run')
def test_resnet50_sigkill_at_ten_points_then_resume_is_exact(resnet50_run, tmp_path):
    sigkill_at_ten_points_then_resume(resnet50_run, tmp_path, 'epoch_4.pth')


@pytest.mark.xdist_group('cifar100_run')
def test_kill_while_the_best_checkpoint_is_written_then_resume_is_exact(cifar100_run, tmp_path):
    """The CIFAR configs keep the best and the last checkpoint. A kill halfway through writing
    the first best checkpoint (after epoch 1's validation), then ``--resume``: the validation of
    epoch 1 runs again, and the run ends with the uninterrupted run's best checkpoint (one file,
    the same epoch, the same weights) and its final state."""
    killed = tmp_path / 'killed'
    command = cifar100_run.command_in(killed)
    run(command, tmp_path, expect_rc=-9, env_extra=train_env('best-half:0'))
    assert not list(killed.glob('best_*.pth'))  # only the half-written .partial
    log = run(command, tmp_path, env_extra=train_env())
    assert 'validating it (again)' in log
    (best, ) = killed.glob('best_*.pth')
    (reference_best, ) = cifar100_run.work.glob('best_*.pth')
    assert best.name == reference_best.name
    weights = torch.load(best, map_location='cpu', weights_only=False)['state_dict']
    reference = torch.load(reference_best, map_location='cpu', weights_only=False)['state_dict']
    assert weights.keys() == reference.keys()
    assert all(torch.equal(weights[key], reference[key]) for key in weights)
    assert_equal_states(final_state(cifar100_run.work / 'epoch_2.pth'),
                        final_state(killed / 'epoch_2.pth'))
    assert not list(killed.glob('*.partial'))


def test_dist_train_kill_one_rank_then_resume_is_exact(tmp_path):
    data = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=8,
                                val_per_class=2)
    # 24 images, 2 processes x 4 a batch: 3 iterations an epoch, 4 epochs.
    options = imagenet_options(data) + ['train_cfg.max_epochs=4', 'randomness.seed=0',
                                        *NARROW_RESNET50_CLASSIFIER]

    def command(work):
        return ['bash', TOOLS / 'dist_train.sh', REPO / 'configs' / 'resnet50_sr_in1k.py', '2',
                '--work-dir', work, '--resume', '--cfg-options', *options]

    env = dict(train_env(), PYTHON=sys.executable, PORT=str(free_port()))
    run(command(tmp_path / 'straight'), tmp_path, env_extra=env)
    work = tmp_path / 'killed'
    # Rank 1 while training and validating; rank 0 (the one that saves) while it writes.
    for kill, rank in (('train:4', 1), ('checkpoint-half:5', 0), ('pointer:5', 0), ('val:8', 1),
                       ('checkpoint-written:10', 0)):
        log = run(command(work), tmp_path, expect_rc=1,
                  env_extra=dict(env, **train_env(kill, rank)))
        assert 'Signal 9 (SIGKILL)' in log, log[-3000:]
    run(command(work), tmp_path, env_extra=env)
    assert_resumed_exactly(tmp_path / 'straight', work, 'epoch_4.pth')
