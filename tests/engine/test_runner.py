"""ResumableRunner: which checkpoint auto-resume picks, the order of checkpoint writes, the
hooks it adds, and the work-dir check."""
import os
import re
from pathlib import Path

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from torch import nn

from mmsr.engine import ResumableRunner, checkpoint_to_resume
from mmsr.engine.hooks import AtomicCheckpointHook, StepSeedHook, atomic_checkpoint_hook
from mmsr.engine.safe_checkpoint import CheckpointLoadError
from mmsr.errors import ConfigError


class Linear(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x, mode='loss'):
        out = self.fc(torch.stack(x) if isinstance(x, list) else x)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else list(out)


def runner(work_dir, iters=4, checkpoint=None, val_interval=1000, **kwargs):
    checkpoint = dict(dict(type='CheckpointHook', by_epoch=False, interval=1), **(checkpoint or {}))
    return ResumableRunner(
        model=Linear(), work_dir=str(work_dir), experiment_name=f'{work_dir.name}-{iters}',
        train_dataloader=dict(dataset=[dict(x=torch.ones(2))] * 4, batch_size=2, num_workers=0,
                              sampler=dict(type='InfiniteSampler')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=iters, val_interval=val_interval),
        default_hooks=dict(checkpoint=checkpoint), **kwargs)


def save(path, value=1.0):
    torch.save(dict(state_dict=dict(w=torch.full((64, 64), value))), path)


def truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def corrupt_contents(path):
    """Overwrite bytes inside the checkpoint's tensor data, keeping the zip directory (and the
    file size) intact: the archive still opens, its data is wrong."""
    import zipfile
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        (record, ) = [info for info in archive.infolist() if info.filename.endswith('/data/0')]
    start = record.header_offset + 30 + len(record.filename.encode()) + len(record.extra)
    data[start + 100:start + 200] = bytes(100)
    path.write_bytes(bytes(data))


def point(work, name):
    (work / 'last_checkpoint').write_text(str(work / name) if name is not None else '')


def test_a_first_start_has_nothing_to_resume(tmp_path):
    assert checkpoint_to_resume(str(tmp_path)) == (None, None)


def test_last_checkpoint_is_used_when_complete(tmp_path):
    for step in (1, 2, 3):
        save(tmp_path / f'iter_{step}.pth')
    point(tmp_path, 'iter_2.pth')  # a newer file is not preferred to what last_checkpoint names
    assert checkpoint_to_resume(str(tmp_path)) == (str(tmp_path / 'iter_2.pth'), None)


@pytest.mark.parametrize('damage, problem', [
    ('truncated', 'names {named}, which is truncated or corrupt'),
    ('corrupt contents', 'names {named}, which is truncated or corrupt'),
    ('deleted', 'names {named}, which does not exist'),
    ('empty pointer', 'is empty'),
    ('no pointer', 'is missing'),
])
def test_a_broken_latest_falls_back_to_the_newest_complete(tmp_path, damage, problem):
    for step in (1, 2, 3):
        save(tmp_path / f'iter_{step}.pth')
    truncate(tmp_path / 'iter_2.pth')
    named = tmp_path / 'iter_3.pth'
    point(tmp_path, named.name)
    expected = tmp_path / 'iter_1.pth'
    if damage == 'truncated':
        truncate(named)
    elif damage == 'corrupt contents':
        corrupt_contents(named)
    elif damage == 'deleted':
        named.unlink()
    else:
        expected = named
        point(tmp_path, None) if damage == 'empty pointer' else \
            (tmp_path / 'last_checkpoint').unlink()
    chosen, warning = checkpoint_to_resume(str(tmp_path))
    assert chosen == str(expected)
    assert warning == (f'{tmp_path / "last_checkpoint"} {problem.format(named=named)}; resuming '
                       f'from the newest complete checkpoint {expected}')


def test_no_complete_checkpoint_is_one_line_naming_the_folder(tmp_path):
    for step in (1, 2):
        save(tmp_path / f'epoch_{step}.pth')
        truncate(tmp_path / f'epoch_{step}.pth')
    point(tmp_path, 'epoch_2.pth')
    with pytest.raises(CheckpointLoadError) as info:
        checkpoint_to_resume(str(tmp_path))
    message = str(info.value)
    assert '\n' not in message
    assert message.startswith(f'no complete checkpoint to resume from in {tmp_path}: ')
    assert 'epoch_2.pth, epoch_1.pth cannot be loaded either' in message


def test_the_runner_adds_its_hooks_once(tmp_path):
    built = runner(tmp_path / 'a', checkpoint=dict(interval=2))
    kinds = [type(h) for h in built.hooks]
    assert kinds.count(StepSeedHook) == 1 and kinds.count(AtomicCheckpointHook) == 1
    assert next(h for h in built.hooks if isinstance(h, AtomicCheckpointHook)).interval == 2
    built = runner(tmp_path / 'b', custom_hooks=[dict(type='StepSeedHook')])  # a user's own
    assert [type(h) for h in built.hooks].count(StepSeedHook) == 1


def test_checkpoints_and_pointer_are_written_before_old_ones_go(tmp_path, monkeypatch):
    """max_keep_ckpts=1: when last_checkpoint moves to the new file, the old one still exists;
    no .partial file is left; last_checkpoint names a loadable file."""
    seen = []
    write = atomic_checkpoint_hook.atomic_write

    def checked_write(path, data):
        new = Path(data.decode())
        assert new.is_file() and not Path(str(new) + '.partial').exists()
        seen.append(sorted(p.name for p in new.parent.glob('iter_*.pth')))
        write(path, data)

    monkeypatch.setattr(atomic_checkpoint_hook, 'atomic_write', checked_write)
    work = tmp_path / 'work'
    runner(work, checkpoint=dict(max_keep_ckpts=1)).train()
    assert seen == [['iter_1.pth'], ['iter_1.pth', 'iter_2.pth'], ['iter_2.pth', 'iter_3.pth'],
                    ['iter_3.pth', 'iter_4.pth']]
    files = sorted(p.name for p in work.iterdir() if p.is_file() and p.suffix != '.py')
    assert files == ['iter_4.pth', 'last_checkpoint']
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_4.pth')
    assert torch.load(work / 'iter_4.pth', weights_only=False)['meta']['iter'] == 4


class Rising(BaseMetric):
    """A validation score that improves at every validation: each is a new best."""
    calls = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        Rising.calls += 1
        return dict(score=float(Rising.calls))


def test_the_previous_best_checkpoint_goes_only_once_the_new_one_is_complete(tmp_path):
    """save_best: while the new best checkpoint is written, the previous best still exists
    (the stock hook deletes it first); afterwards only the new one is left."""
    work = tmp_path / 'work'
    seen = []
    best_runner = runner(
        work, iters=2, checkpoint=dict(save_best='score', rule='greater'), val_interval=1,
        val_dataloader=dict(dataset=[dict(x=torch.ones(2))] * 2, batch_size=2, num_workers=0,
                            sampler=dict(type='DefaultSampler', shuffle=False)),
        val_cfg=dict(), val_evaluator=dict(type=Rising))
    save = best_runner.save_checkpoint

    def recording_save(out_dir, filename, *args, **kwargs):
        if filename.startswith('best_'):
            seen.append(sorted(p.name for p in work.glob('best_*.pth')))
        return save(out_dir, filename, *args, **kwargs)

    best_runner.save_checkpoint = recording_save
    best_runner.train()
    assert seen == [[], ['best_score_iter_1.pth']]
    assert sorted(p.name for p in work.glob('best_*')) == ['best_score_iter_2.pth']


def test_resume_removes_partial_files_and_warns_about_the_fallback(tmp_path):
    work = tmp_path / 'work'
    runner(work, iters=2).train()
    truncate(work / 'iter_2.pth')
    (work / 'iter_3.pth.partial').write_bytes(b'half')
    resumed = runner(work, iters=3, resume=True)
    resumed.train()
    assert resumed.iter == 3 and not (work / 'iter_3.pth.partial').exists()
    log = ''.join(p.read_text() for p in work.glob('*/*.log'))
    assert re.search(rf'names {re.escape(str(work / "iter_2.pth"))}, which is truncated or '
                     rf'corrupt; resuming from the newest complete checkpoint '
                     rf'{re.escape(str(work / "iter_1.pth"))}', log)


def unwritable_dirs(tmp_path):
    blocked = tmp_path / 'a-file'
    blocked.write_text('')
    yield blocked / 'work', 'Not a directory'
    if os.geteuid() == 0:  # permission bits do not bind root; sysfs refuses new folders
        yield Path('/sys/mmsr-work'), ''
    else:
        read_only = tmp_path / 'read-only'
        read_only.mkdir()
        read_only.chmod(0o555)
        yield read_only / 'work', 'Permission denied'


def test_an_unwritable_work_dir_is_refused_before_anything_is_built(tmp_path):
    for work, reason in unwritable_dirs(tmp_path):
        with pytest.raises(ConfigError) as info:
            runner(work)
        assert str(info.value).startswith(f'the work dir {work} cannot be written ({reason}')
        assert str(info.value).endswith('pass --work-dir with a writable folder (or set '
                                        'work_dir in the config)')
