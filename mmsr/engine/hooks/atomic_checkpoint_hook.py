"""mmengine's CheckpointHook, in an order that a kill at any moment cannot break."""
from __future__ import annotations

import os.path as osp
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from ..atomic_io import atomic_write


class _DeferredRemovals:
    """A file backend that records ``remove`` / ``rmtree`` calls until :meth:`remove_now`;
    everything else goes to ``backend``."""

    def __init__(self, backend) -> None:
        self._backend, self._removals = backend, []

    def __getattr__(self, name: str):
        return getattr(self._backend, name)

    def remove(self, path) -> None:
        self._removals.append(('remove', path))

    def rmtree(self, path) -> None:
        self._removals.append(('rmtree', path))

    def remove_now(self, keep=()) -> None:
        """Carry out the recorded removals, except of the paths in ``keep``."""
        for method, path in self._removals:
            if path not in keep and self._backend.exists(path):
                getattr(self._backend, method)(path)
        self._removals = []


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) whose files are always complete.

    The stock hook deletes expired checkpoints (``max_keep_ckpts``) before it writes the new
    one, and rewrites ``last_checkpoint`` in place; a kill in between leaves ``last_checkpoint``
    naming a deleted file, or an empty ``last_checkpoint``. This hook writes the checkpoint
    (atomically, through :meth:`ResumableRunner.save_checkpoint
    <mmsr.engine.ResumableRunner.save_checkpoint>`), then points ``last_checkpoint`` at it with
    write-then-rename, and only then deletes expired checkpoints.

    ``save_best`` likewise: the stock hook deletes the previous best checkpoint before it
    writes the new one, so a kill in between leaves no best checkpoint; here the previous one
    is deleted once the new one is complete.
    """

    def _expire(self, runner, step: int) -> List[str]:
        """Update ``keep_ckpt_ids`` as the stock hook does; return the paths it would delete."""
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            return []
        expired = []
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            expired.append(self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(self.keep_ckpt_ids.popleft())))
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        return expired

    def _save_best_checkpoint(self, runner, metrics) -> None:
        backend, deferred = self.file_backend, _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        deferred.remove_now(keep={getattr(self, 'best_ckpt_path', None),
                                  *getattr(self, 'best_ckpt_path_dict', {}).values()})

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        expired = self._expire(runner, step)
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt.encode())
        for path in expired:
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # checkpoints saved by deepspeed are folders
                self.file_backend.rmtree(path)
