"""Run the upstream ``tools/train.py`` / ``tools/test.py`` of the codebase a config belongs to.

``tools/train.py`` and ``tools/test.py`` take the upstream command lines: they find the upstream
script of the config's codebase (its ``default_scope``), turn mmsr's own flags into
``--cfg-options``, and run the script with the command line it was given. Everything else a run
does - checked data, the work-dir check, exact resume, atomic checkpoints - comes from the
config (``runner_type``, ``test_cfg``), as with the stock tools. mmsr's flags:

* ``test.py --sr-off``: ``enabled=False`` in every ``sr_cfg`` of the model, the paper's
  ablation, without editing the config;
* ``--launcher pytorch`` on a machine without CUDA (``tools/dist_train.sh`` on the CPU): the
  model wrapped without ``device_ids`` (SyncBN refused with the options that switch it to
  BN), after the gloo process group is created here, as a launcher would: mmengine creates
  it only after ``torch.cuda.set_device``, which needs CUDA.

Before the script runs, the objects of the modules imported so far are moved out of the
garbage collector's reach (``gc.freeze``): mmengine collects garbage after building each
dataset, and each collection would otherwise walk every object of torch, mmengine and the
codebases (about half a second each).
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import runpy
import sys
from pathlib import Path
from typing import List, Sequence

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction

from ..errors import ConfigError, MMSRError
from ..utils.config import detect_codebase, iter_dicts, load_config
from . import run_cli

_PACKAGES = {'mmseg': 'mmsegmentation', 'mmpretrain': 'mmpretrain'}


def upstream_tool(codebase: str, name: str) -> Path:
    """Path of the upstream ``tools/<name>.py`` shipped inside the installed package."""
    spec = importlib.util.find_spec(codebase)
    if spec is None or spec.origin is None:
        raise ConfigError(f'the config is a {codebase} config but {codebase} is not installed; '
                          f'pip install {_PACKAGES.get(codebase, codebase)} (with full mmcv).')
    path = Path(spec.origin).parent / '.mim' / 'tools' / f'{name}.py'
    if not path.is_file():
        raise MMSRError(f'{path} is missing: reinstall {codebase} from its wheel.')
    return path


# --- mmsr's flags as config options -------------------------------------------------------
def sr_off_options(cfg: Config) -> List[str]:
    """``--cfg-options`` setting ``enabled=False`` in every ``sr_cfg`` of ``cfg.model``;
    raises if the model has none."""
    options = [f'{key}.sr_cfg.enabled=False' for key, node in iter_dicts(cfg.get('model'), 'model')
               if isinstance(node.get('sr_cfg'), dict)]
    if not options:
        raise ConfigError(f'--sr-off: {cfg.filename} has no SR block (no sr_cfg in model); '
                          'there is nothing to switch off.')
    return options


def cpu_distributed_options(cfg: Config) -> List[str]:
    """``--cfg-options`` for DDP on the CPU: a wrapper without ``device_ids`` (mmengine's
    default wrapper otherwise); SyncBN, which needs CUDA, is refused with the options that
    switch it to BN."""
    sync_bn = [key for key, node in iter_dicts(cfg.get('model'), 'model')
               if node.get('type') in ('SyncBN', 'MMSyncBN')]
    if sync_bn:
        options = ' '.join(f'{key}.type=BN' for key in sync_bn)
        raise ConfigError('SyncBN needs CUDA, and this machine has none. To run on the CPU, '
                          f'switch it to BN: --cfg-options {options}')
    options = ['env_cfg.dist_cfg.backend=gloo', 'model_wrapper_cfg.device_ids=None']
    if cfg.get('model_wrapper_cfg') is None:  # mmengine's default wrapper, spelled out
        unused = cfg.get('find_unused_parameters', False)
        options += ['model_wrapper_cfg.type=MMDistributedDataParallel',
                    'model_wrapper_cfg.broadcast_buffers=False',
                    f'model_wrapper_cfg.find_unused_parameters={unused}']
    return options


def init_cpu_distributed(launcher: str) -> bool:
    """Create the gloo process group for ``--launcher pytorch`` when CUDA is unavailable
    (RANK, WORLD_SIZE, MASTER_* from torchrun); True if it did."""
    if launcher == 'none' or torch.cuda.is_available() or dist.is_initialized():
        return False
    if launcher != 'pytorch':
        raise ConfigError(f'--launcher {launcher} needs CUDA; without a GPU, start the '
                          'processes with torchrun and --launcher pytorch (as dist_train.sh '
                          'does): they run on gloo.')
    dist.init_process_group('gloo')
    return True


# --- running ------------------------------------------------------------------------------
def _parse(name: str, argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f'tools/{name}.py', add_help=False)
    parser.add_argument('config', nargs='?')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', default='none')
    parser.add_argument('--sr-off', action='store_true')
    known, _ = parser.parse_known_args(argv)
    return known


def run_tool(name: str, argv: Sequence[str]) -> int:
    """``tools/<name>.py`` with ``argv``: the upstream script, with mmsr's flags as
    ``--cfg-options``. Returns 0, or 2 after printing an :class:`MMSRError` as one line."""
    prog = f'tools/{name}.py'
    known = _parse(name, argv)

    def main() -> int:
        if known.config is None or known.config.startswith('-'):
            raise ConfigError(f'usage: {prog} CONFIG ... (the upstream mmseg / mmpretrain '
                              f'{name}.py options; "{prog} CONFIG -h" lists them)')
        if known.sr_off and name != 'test':
            raise ConfigError(f'--sr-off is an option of test.py, not of {prog}')
        cfg = load_config(known.config, known.cfg_options)
        tool = upstream_tool(detect_codebase(cfg), name)
        options = sr_off_options(cfg) if known.sr_off else []
        if known.launcher != 'none' and not torch.cuda.is_available():
            options += cpu_distributed_options(cfg)
            init_cpu_distributed(known.launcher)
        upstream_argv = [arg for arg in argv if arg != '--sr-off']
        if options:
            upstream_argv += ['--cfg-options', *options]
        saved_argv, sys.argv = sys.argv, [str(tool), *upstream_argv]
        gc.freeze()
        try:
            runpy.run_path(str(tool), run_name='__main__')
        finally:
            sys.argv = saved_argv
            gc.unfreeze()
        return 0

    try:
        return run_cli(prog, main)
    finally:
        if dist.is_initialized() and known.launcher != 'none':
            # The run's objects go first: the runner is kept alive by reference cycles, and its
            # DDP wrapper by it, holding the process group. Left to the interpreter's exit, the
            # group's threads outlive it, and a gloo process can abort there ('terminate called
            # without an active exception').
            gc.collect()
            dist.destroy_process_group()
