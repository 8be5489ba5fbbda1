"""A Runner whose ``--resume`` is exact, and survives a kill at any moment."""
from __future__ import annotations

import glob
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook
from mmengine.registry import RUNNERS
from mmengine.runner import BaseLoop, EpochBasedTrainLoop, Runner

from .atomic_io import PARTIAL_SUFFIX, partial_path, publish
from .config_text import FormattedOnceConfig
from .hooks import AtomicCheckpointHook, StepSeedHook
from .loops import build_checked_dataloader
from .safe_checkpoint import CheckpointLoadError, load_local_checkpoint
from .work_dir import check_work_dir

_STEP_NAME = re.compile(r'^(?:epoch|iter)_(\d+)\.pth$')
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _is_complete(path: str) -> bool:
    """Whether ``path`` is a whole checkpoint: torch's zip format has its index at the end (a
    truncated file has none), and every record's CRC-32 must match its bytes (a file whose
    contents were damaged behind an intact index)."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return archive.testzip() is None
        load_local_checkpoint(path, map_location='cpu')  # the legacy (non-zip) format
        return True
    except (OSError, zipfile.BadZipFile, CheckpointLoadError):
        return False


def _step_checkpoints(folders: List[str]) -> List[str]:
    """``epoch_N.pth`` / ``iter_N.pth`` in ``folders``, newest (largest N) first."""
    steps = {osp.normpath(path): int(match.group(1))
             for folder in folders for path in glob.glob(osp.join(folder, '*.pth'))
             for match in [_STEP_NAME.match(osp.basename(path))] if match}
    return sorted(steps, key=lambda path: -steps[path])


def checkpoint_to_resume(work_dir: str) -> Tuple[Optional[str], Optional[str]]:
    """The checkpoint that auto-resume (``--resume`` without a file) continues from, and a
    warning when that is not the one ``last_checkpoint`` names.

    ``last_checkpoint`` normally names a complete file. If it is empty or names a missing or
    truncated one, the newest complete ``epoch_N.pth`` / ``iter_N.pth`` is used instead. Returns
    ``(None, None)`` when the folder holds neither (a first start); raises a
    :class:`CheckpointLoadError` naming the folder when it holds checkpoints but none complete.
    """
    pointer_file = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(pointer_file):
        with open(pointer_file) as f:
            named = f.read().strip()
    folders = [work_dir] + ([osp.dirname(named)] if named else [])
    candidates = _step_checkpoints(folders)
    if named is None and not candidates:
        return None, None
    if named and _is_complete(named):
        return named, None
    complete = next((p for p in candidates if p != osp.normpath(named or '')
                     and _is_complete(p)), None)
    if named is None:
        problem = f'{pointer_file} is missing'
    elif not named:
        problem = f'{pointer_file} is empty'
    else:
        problem = (f'{pointer_file} names {named}, which '
                   + ('is truncated or corrupt' if osp.exists(named) else 'does not exist'))
    if complete is None:
        tried = ', '.join(osp.basename(p) for p in candidates) or 'no epoch_N.pth / iter_N.pth'
        raise CheckpointLoadError(
            f'no complete checkpoint to resume from in {work_dir}: {problem}, and {tried} '
            'cannot be loaded either; pass --resume with a checkpoint file, or clear the '
            'folder to start from scratch')
    return complete, f'{problem}; resuming from the newest complete checkpoint {complete}'


@RUNNERS.register_module()
class ResumableRunner(Runner):
    """mmengine's ``Runner`` with exact, kill-proof resume and early, clear errors.

    Select it with ``runner_type = 'ResumableRunner'`` (every config of this repo does). On top
    of ``Runner``:

    * the work dir is checked for writing before anything is built;
    * :class:`~mmsr.engine.hooks.StepSeedHook` is added (unless the config lists it), so a
      resumed run draws the random numbers of a run that never stopped;
    * checkpoints are written to ``<name>.partial`` and renamed, and the config's
      ``CheckpointHook`` runs as :class:`~mmsr.engine.hooks.AtomicCheckpointHook`, so
      ``last_checkpoint`` only ever names a complete file;
    * auto-resume falls back from a missing or truncated latest checkpoint to the newest
      complete one, with a warning naming both (:func:`checkpoint_to_resume`);
    * every dataloader is built with its data checked: a missing dataset folder or file, and
      an image or label map that cannot be loaded, fail with one line naming the file and the
      config key (:func:`~mmsr.engine.loops.build_checked_dataloader`);
    * the config's formatted text, which ``Runner`` writes to the log, the work dir and every
      checkpoint, is formatted once (:class:`~mmsr.engine.config_text.FormattedOnceConfig`).

    Under a runner that is not this one, ``test_cfg = dict(type='CheckedTestLoop')`` checks the
    test data the same way.
    """

    def __init__(self, model, work_dir: str, *args, **kwargs) -> None:
        check_work_dir(work_dir)
        if 'cfg' in kwargs:
            kwargs['cfg'] = FormattedOnceConfig.of(kwargs['cfg'])
        super().__init__(model, work_dir, *args, **kwargs)

    # --- hooks ---------------------------------------------------------------------------
    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        default_hooks = dict(default_hooks or {})
        checkpoint = default_hooks.get('checkpoint', dict(type='CheckpointHook', interval=1))
        if isinstance(checkpoint, dict) and checkpoint.get('type') in (
                'CheckpointHook', 'mmengine.CheckpointHook', CheckpointHook):
            default_hooks['checkpoint'] = dict(checkpoint, type=AtomicCheckpointHook)
        custom_hooks = list(custom_hooks or [])
        names = ('StepSeedHook', StepSeedHook)
        if not any(isinstance(h, StepSeedHook) or (isinstance(h, dict) and h.get('type') in names)
                   for h in custom_hooks):
            custom_hooks.append(dict(type=StepSeedHook))
        super().register_hooks(default_hooks, custom_hooks)

    # --- checkpoints ---------------------------------------------------------------------
    def save_checkpoint(self, out_dir: str, filename: str, file_client_args=None, *args,
                        **kwargs) -> None:
        """``Runner.save_checkpoint``, written to ``filename + '.partial'`` and renamed (local
        folders; other storage backends are written as by ``Runner``)."""
        backend = get_file_backend(out_dir, backend_args=kwargs.get('backend_args'))
        if file_client_args is not None or not isinstance(backend, LocalBackend):
            return super().save_checkpoint(out_dir, filename, file_client_args, *args, **kwargs)
        super().save_checkpoint(out_dir, partial_path(filename), None, *args, **kwargs)
        if is_main_process():
            publish(osp.join(out_dir, partial_path(filename)), osp.join(out_dir, filename))

    def load_or_resume(self) -> None:
        resuming = self._resume and not self._has_loaded
        if self._resume and self._load_from is None and not self._has_loaded:
            self._remove_partial_files()
            resume_from, warning = checkpoint_to_resume(self.work_dir)
            if warning:
                self.logger.warning(warning)
            if resume_from is None:
                self.logger.warning(f'--resume: no checkpoint in {self.work_dir} yet, so '
                                    'training starts from the beginning.')
                self._resume = False
            self._load_from = resume_from
        super().load_or_resume()
        self._validate_first = (resuming and self._resume
                                and isinstance(self._train_loop, BaseLoop)
                                and self._resumed_step_is_validated())

    def _resumed_step_is_validated(self) -> bool:
        """Whether the train loop validates after the step it resumes from (mmengine's loops'
        own condition)."""
        loop = self._train_loop
        if self._val_loop is None or not hasattr(loop, 'val_interval'):
            return False
        step, last = ((loop.epoch, loop.max_epochs) if isinstance(loop, EpochBasedTrainLoop)
                      else (loop.iter, loop.max_iters))
        return (0 < step <= last and step >= loop.val_begin
                and (step % loop.val_interval == 0 or step == last))

    def call_hook(self, fn_name: str, **kwargs) -> None:
        """``Runner.call_hook``; after the ``before_train`` hooks of a resumed run, the
        validation due at the step it resumes from runs again. Checkpoints are saved before
        that validation, so a run stopped during it (or while its ``save_best`` checkpoint was
        written) would otherwise never validate that step, and the best checkpoint of the
        resumed run could differ from that of a run never stopped."""
        super().call_hook(fn_name, **kwargs)
        if fn_name == 'before_train' and getattr(self, '_validate_first', False):
            self._validate_first = False
            self.logger.info('resumed at a step that is validated: validating it (again)')
            self.val_loop.run()

    def _remove_partial_files(self) -> None:
        if not is_main_process():
            return
        for path in glob.glob(osp.join(self.work_dir, '*' + PARTIAL_SUFFIX)):
            self.logger.info(f'removing {path}, left by a run that stopped while writing it')
            os.remove(path)

    # --- data ----------------------------------------------------------------------------
    def build_dataloader(self, dataloader, seed=None, diff_rank_seed=False):
        """``Runner.build_dataloader``, with the data checked
        (:func:`~mmsr.engine.loops.build_checked_dataloader`)."""
        key = next((k for k in _LOADERS if dataloader is getattr(self, f'_{k}', None)),
                   'dataloader')
        return build_checked_dataloader(dataloader, key, seed=seed,
                                        diff_rank_seed=diff_rank_seed)
