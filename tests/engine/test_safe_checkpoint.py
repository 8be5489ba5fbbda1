"""Checkpoints that mmengine saves load under torch >= 2.6 with weights_only kept on;
crafted ones are refused with a clear error. On a torch without the allow-list (< 2.4)
checkpoints load as that torch's own tools load them (README), which these tests check too."""
import importlib.util
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from allowed_skips import NO_ALLOW_LIST
from torch import nn
from torch.utils.data import Dataset

from mmsr.engine import safe_checkpoint
from mmsr.engine.safe_checkpoint import CheckpointLoadError, history_buffer_getattr
from mmsr.torch_features import HAS_SAFE_GLOBALS

needs_allow_list = pytest.mark.skipif(not HAS_SAFE_GLOBALS, reason=NO_ALLOW_LIST)


class PairDataset(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        gen = torch.Generator().manual_seed(index)
        return dict(x=torch.randn(3, generator=gen), y=torch.tensor(float(index % 2)))


class TinyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, x, y, mode='loss'):
        out = self.linear(torch.stack(x) if isinstance(x, list) else x).squeeze(1)
        if mode == 'loss':
            y = torch.stack(y) if isinstance(y, list) else y
            return dict(loss=((out - y)**2).mean())
        return out


def build_runner(work_dir, max_iters, **kwargs):
    return Runner(
        model=TinyModel(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=PairDataset(), batch_size=4,
                              sampler=dict(type='DefaultSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[2], by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        randomness=dict(seed=0), **kwargs)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('runner')
    build_runner(work_dir, 2).train()
    return work_dir / 'iter_2.pth'


def test_runner_checkpoint_holds_the_globals_torch_refuses_by_default(runner_checkpoint):
    with zipfile.ZipFile(runner_checkpoint) as archive:
        pickled = archive.read(next(n for n in archive.namelist() if n.endswith('data.pkl')))
    for name in (b'mmengine.logging.history_buffer', b'HistoryBuffer', b'getattr', b'numpy'):
        assert name in pickled


def test_loads_with_weights_only(runner_checkpoint):
    if not HAS_SAFE_GLOBALS:  # torch's own weights_only unpickler refuses mmengine's globals
        with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer|Unsupported'):
            torch.load(runner_checkpoint, weights_only=True)
        return
    checkpoint = torch.load(runner_checkpoint, weights_only=True)
    history = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(history, HistoryBuffer) and history.current() > 0
    assert 'state_dict' in checkpoint and 'optimizer' in checkpoint


def test_mmengine_load_checkpoint(runner_checkpoint):
    model = TinyModel()
    load_checkpoint(model, str(runner_checkpoint))
    saved = torch.load(runner_checkpoint, weights_only=HAS_SAFE_GLOBALS)['state_dict']
    assert torch.equal(model.linear.weight, saved['linear.weight'])


class FirstIteration(Hook):
    """Records the iteration and the weights the run starts training from."""

    def __init__(self):
        self.first, self.weights = None, None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.first is None:
            self.first = runner.iter
            self.weights = {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_resume_continues_from_checkpoint(runner_checkpoint, tmp_path):
    """Resuming starts training at iteration 2 from the saved weights (a silent fresh start
    would begin at 0, from new weights)."""
    saved = torch.load(runner_checkpoint, map_location='cpu', weights_only=False)
    first = FirstIteration()
    runner = build_runner(tmp_path / 'resumed', 4, resume=True,
                          load_from=str(runner_checkpoint), custom_hooks=[first])
    runner.train()
    assert first.first == 2 and runner.iter == 4
    assert (tmp_path / 'resumed' / 'iter_4.pth').is_file()
    assert first.weights.keys() == saved['state_dict'].keys()
    for key, value in saved['state_dict'].items():
        assert torch.equal(first.weights[key], value), key


class RunsCode:

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class GetattrAbuse:

    def __reduce__(self):
        return (getattr, (HistoryBuffer, 'register_statistics'))


@needs_allow_list
def test_crafted_checkpoint_running_code_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    payload = RunsCode()
    payload.marker = marker
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': payload}, path)
    with pytest.raises(CheckpointLoadError, match='refused to load checkpoint .*evil.pth.*'
                       'could run code'):
        CheckpointLoader.load_checkpoint(str(path))
    with pytest.raises(CheckpointLoadError):
        load_checkpoint(TinyModel(), str(path))
    assert not marker.exists()


@needs_allow_list
def test_getattr_is_not_allowed_in_general(tmp_path):
    path = tmp_path / 'getattr.pth'
    torch.save({'meta': GetattrAbuse()}, path)
    with pytest.raises(CheckpointLoadError, match='refused'):
        CheckpointLoader.load_checkpoint(str(path))
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(os, 'system')
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(HistoryBuffer, '__init__')
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean


def test_numpy_scalars_and_arrays(tmp_path):
    path = tmp_path / 'np.pth'
    torch.save({'meta': {'arr': np.arange(6.0).reshape(2, 3), 'i': np.int64(3),
                         'f': np.float32(1.5), 'seed': np.uint32(7)}}, path)
    meta = CheckpointLoader.load_checkpoint(str(path))['meta']
    assert meta['arr'].shape == (2, 3) and meta['i'] == 3 and meta['f'] == 1.5


def test_missing_and_truncated_checkpoints_are_clear_errors(runner_checkpoint, tmp_path):
    with pytest.raises(CheckpointLoadError, match='does not exist'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'nope.pth'))
    data = runner_checkpoint.read_bytes()
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointLoadError, match='truncated or corrupt'):
        CheckpointLoader.load_checkpoint(str(truncated))
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'\x00not a checkpoint' * 10)
    with pytest.raises(CheckpointLoadError, match='truncated or corrupt'):
        CheckpointLoader.load_checkpoint(str(garbage))


def qualified_names(entries):
    names = []
    for entry in entries:
        obj, name = entry if isinstance(entry, tuple) else (entry, None)
        names.append(name or f'{obj.__module__}.{obj.__qualname__}')
    return names


def test_the_allow_list_is_exactly_these_globals():
    """Pinned: any global added to the allow-list (say builtins.eval) fails here."""
    dtype_classes = [getattr(np.dtypes, n) for n in dir(getattr(np, 'dtypes', object()))
                     if n.endswith('DType')]
    dtypes = set(qualified_names(c for c in dtype_classes if isinstance(c, type)))
    reconstruct = {f'{module}.{attr}' for module in ('numpy._core.multiarray',
                                                     'numpy.core.multiarray')
                   if importlib.util.find_spec(module.rsplit('.', 1)[0]) is not None
                   for attr in ('_reconstruct', 'scalar')}
    names = qualified_names(safe_checkpoint.safe_globals())
    assert set(names) == {'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr',
                          'numpy.ndarray', 'numpy.dtype'} | reconstruct | dtypes


@needs_allow_list
def test_without_import_mmsr_the_same_checkpoint_is_refused(runner_checkpoint):
    """Negative control: what makes mmengine's checkpoint load is mmsr's allow-list."""
    code = ('import torch, sys\n'
            'try:\n'
            f'    torch.load({str(runner_checkpoint)!r}, weights_only=True)\n'
            'except Exception as error:\n'
            '    print(type(error).__name__, error); sys.exit(3)\n'
            'import mmsr\n'
            f'torch.load({str(runner_checkpoint)!r}, weights_only=True)\n')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 3, result.stdout + result.stderr
    assert 'HistoryBuffer' in result.stdout
    code = 'import mmsr, torch\n' + f'torch.load({str(runner_checkpoint)!r}, weights_only=True)\n'
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
