"""Run the upstream ``tools/train.py`` / ``tools/test.py`` of the codebase a config belongs to.

The repo's ``tools/train.py`` and ``tools/test.py`` take exactly the upstream command lines
(mmseg's or mmpretrain's, chosen from the config's ``default_scope``) and run the upstream
script itself, so every upstream option behaves as upstream. Before the runner is built, the
final config (after ``--cfg-options`` and the script's own changes) is checked and adapted:

* every dataset folder and annotation file the run reads must exist, else a
  :class:`~mmsr.errors.DataNotFoundError` names the config key to set;
* the work dir must be writable (:func:`~mmsr.engine.work_dir.check_work_dir`);
* ``--launcher pytorch`` on a machine without CUDA runs on gloo (the process group is created
  here, the model is wrapped without ``device_ids``); SyncBN there is refused with the
  ``--cfg-options`` that switch it to BN;
* ``test.py --sr-off`` switches every SR block's contribution off (``enabled=False``), the
  paper's ablation, without editing the config.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import runpy
import sys
from pathlib import Path
from typing import Callable, Iterator, List, Sequence, Tuple

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.registry import Registry
from mmengine.runner import Runner

from ..engine.work_dir import check_work_dir
from ..errors import ConfigError, DataNotFoundError, MMSRError
from ..utils.config import detect_codebase, iter_dicts, load_config
from . import run_cli

# The folder inside data_root that holds a dataset's files, where the class fixes it.
_FIXED_FOLDERS = {'CIFAR10': 'cifar-10-batches-py', 'CIFAR100': 'cifar-100-python'}
# Datasets whose ``split`` names a folder under data_root.
_SPLIT_FOLDER_DATASETS = ('ImageNet', 'ImageNet21k')


def upstream_tool(codebase: str, name: str) -> Path:
    """Path of the upstream ``tools/<name>.py`` shipped inside the installed package."""
    spec = importlib.util.find_spec(codebase)
    if spec is None or spec.origin is None:
        raise ConfigError(f'the config is a {codebase} config but {codebase} is not installed; '
                          'run "make env" once (it installs the pinned stack into .venv).')
    path = Path(spec.origin).parent / '.mim' / 'tools' / f'{name}.py'
    if not path.is_file():
        raise MMSRError(f'{path} is missing: reinstall {codebase} from its wheel.')
    return path


# --- dataset paths ------------------------------------------------------------------------
def _is_uri(path: str) -> bool:
    return '://' in path


def leaf_datasets(cfg, key: str) -> Iterator[Tuple[str, dict]]:
    """``(config key, dataset cfg)`` of every dataset under wrappers (Repeat, Concat, split)."""
    if not isinstance(cfg, dict):
        return
    if isinstance(cfg.get('datasets'), (list, tuple)):
        for index, child in enumerate(cfg['datasets']):
            yield from leaf_datasets(child, f'{key}.datasets.{index}')
    elif isinstance(cfg.get('dataset'), dict):
        yield from leaf_datasets(cfg['dataset'], f'{key}.dataset')
    else:
        yield key, cfg


def _dataset_paths(ds: dict) -> List[Tuple[str, str]]:
    """``(setting, path)`` pairs the dataset reads, relative paths joined to ``data_root``."""
    root = ds.get('data_root') or ''
    settings = []
    prefix = ds.get('data_prefix')
    if isinstance(prefix, str):
        settings.append(('data_prefix', prefix))
    elif isinstance(prefix, dict):
        settings += [(f'data_prefix.{k}', v) for k, v in prefix.items() if isinstance(v, str)]
    if isinstance(ds.get('ann_file'), str):
        settings.append(('ann_file', ds['ann_file']))
    if ds.get('type') in _SPLIT_FOLDER_DATASETS and ds.get('split') and not prefix:
        settings.append(('split', ds['split']))
    if ds.get('type') in _FIXED_FOLDERS:
        settings.append(('data_root', _FIXED_FOLDERS[ds['type']]))
    return [(setting, path if os.path.isabs(path) else os.path.join(root, path))
            for setting, path in settings if path and not _is_uri(path)]


def check_data_paths(cfg: Config, loaders: Sequence[str]) -> None:
    """Raise :class:`DataNotFoundError` for the first dataset folder or file that is missing."""
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, dict):
            continue
        for key, ds in leaf_datasets(loader_cfg.get('dataset'), f'{loader}.dataset'):
            root = ds.get('data_root') or ''
            if ds.get('download') or _is_uri(root):
                continue  # the dataset fetches its files itself / not on a local disk
            name = ds.get('type', 'dataset')
            if root and not os.path.isdir(root):
                raise DataNotFoundError(
                    f'{key}: the {name} folder data_root={root!r} does not exist (looked for '
                    f'{os.path.abspath(root)}). Put the dataset there (README, "Data '
                    f'preparation") or pass --cfg-options {key}.data_root=/path/to/it')
            for setting, path in _dataset_paths(ds):
                if not os.path.exists(path):
                    raise DataNotFoundError(
                        f'{key}: {name} expects {path!r} ({setting}) under data_root={root!r}, '
                        'and it does not exist. Check that data_root is the dataset\'s top '
                        'folder in the layout the README ("Data preparation") shows, or set '
                        f'--cfg-options {key}.{setting}=...')


# --- SR ablation --------------------------------------------------------------------------
def disable_sr(cfg: Config) -> int:
    """Set ``enabled=False`` in every ``sr_cfg`` of ``cfg.model`` (where SR backbones take
    their blocks); returns how many. Raises if there is none."""
    count = 0
    for _, node in iter_dicts(cfg.get('model')):
        if isinstance(node.get('sr_cfg'), dict):
            node['sr_cfg']['enabled'] = False
            count += 1
    if count == 0:
        raise ConfigError(f'--sr-off: {cfg.filename} has no SR block (no sr_cfg in model); '
                          'there is nothing to switch off.')
    return count


# --- distributed on the CPU ---------------------------------------------------------------
def init_cpu_distributed(launcher: str) -> bool:
    """Create the gloo process group for ``--launcher pytorch`` when CUDA is unavailable
    (mmengine would call ``torch.cuda.set_device``); True if it did."""
    if launcher == 'none' or torch.cuda.is_available() or dist.is_initialized():
        return False
    if launcher != 'pytorch':
        raise ConfigError(f'--launcher {launcher} needs CUDA; without a GPU, run distributed '
                          'with tools/dist_train.sh (--launcher pytorch, on gloo).')
    dist.init_process_group('gloo')  # RANK, WORLD_SIZE, MASTER_* from torchrun
    return True


def adapt_for_cpu_distributed(cfg: Config) -> None:
    """gloo backend and a DDP wrapper without ``device_ids``; refuse SyncBN (needs CUDA)."""
    sync_bn = [key for key, node in iter_dicts(cfg.get('model'), 'model')
               if node.get('type') in ('SyncBN', 'MMSyncBN')]
    if sync_bn:
        options = ' '.join(f'{key}.type=BN' for key in sync_bn)
        raise ConfigError('SyncBN needs CUDA, and this machine has none. To run on the CPU, '
                          f'switch it to BN: --cfg-options {options}')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


# --- running ------------------------------------------------------------------------------
@contextlib.contextmanager
def _before_runner(prepare: Callable[[Config], None]):
    """Call ``prepare(cfg)`` once on the final config, just before the runner is built, the
    two ways the upstream scripts build it: ``Runner.from_cfg``, or ``RUNNERS.build`` for a
    config with ``runner_type`` (also a runner with its own ``from_cfg``, or FlexibleRunner)."""
    prepared = []

    def prepare_once(cfg) -> None:
        if not prepared:
            prepared.append(True)
            prepare(cfg)

    original_from_cfg, original_build = Runner.__dict__['from_cfg'], Registry.build

    def from_cfg(cls, cfg):
        prepare_once(cfg)
        return original_from_cfg.__func__(cls, cfg)

    def build(registry, cfg, *args, **kwargs):
        if registry.name == 'runner':
            prepare_once(cfg)
        return original_build(registry, cfg, *args, **kwargs)

    Runner.from_cfg, Registry.build = classmethod(from_cfg), build
    try:
        yield
    finally:
        Runner.from_cfg, Registry.build = original_from_cfg, original_build


def _loaders(name: str, cfg: Config) -> List[str]:
    if name == 'test':
        return ['test_dataloader']
    loaders = ['train_dataloader']
    if cfg.get('val_cfg') is not None and cfg.get('val_dataloader') is not None:
        loaders.append('val_dataloader')
    return loaders


def run_tool(name: str, argv: Sequence[str]) -> int:
    """``tools/<name>.py`` with ``argv``: checks, then the upstream script. Returns 0, or 2
    after printing an :class:`MMSRError` (bad input) as one line."""
    prog = f'tools/{name}.py'
    parser = argparse.ArgumentParser(prog=prog, add_help=False)
    parser.add_argument('config', nargs='?')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', default='none')
    if name == 'test':
        parser.add_argument('--sr-off', action='store_true')
    known, _ = parser.parse_known_args(argv)
    upstream_argv = [arg for arg in argv if arg != '--sr-off']

    def main() -> int:
        if known.config is None or known.config.startswith('-'):
            raise ConfigError(f'usage: {prog} CONFIG ... (the upstream mmseg / mmpretrain '
                              f'{name}.py options; "{prog} CONFIG -h" lists them)')
        cfg = load_config(known.config, known.cfg_options)
        tool = upstream_tool(detect_codebase(cfg), name)
        cpu_distributed = init_cpu_distributed(known.launcher)

        def prepare(final_cfg: Config) -> None:
            if getattr(known, 'sr_off', False):
                disable_sr(final_cfg)
            if cpu_distributed:
                adapt_for_cpu_distributed(final_cfg)
            check_data_paths(final_cfg, _loaders(name, final_cfg))
            if final_cfg.get('work_dir'):
                check_work_dir(final_cfg.work_dir)

        saved_argv = sys.argv
        sys.argv = [str(tool), *upstream_argv]
        try:
            with _before_runner(prepare):
                runpy.run_path(str(tool), run_name='__main__')
        finally:
            sys.argv = saved_argv
        return 0

    try:
        return run_cli(prog, main)
    finally:
        if dist.is_initialized() and known.launcher != 'none':
            dist.destroy_process_group()
