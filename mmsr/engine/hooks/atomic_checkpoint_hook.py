"""mmengine's CheckpointHook, in an order that a kill at any moment cannot break."""
from __future__ import annotations

import os.path as osp
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from ..atomic_io import atomic_write


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) whose files are always complete.

    The stock hook deletes expired checkpoints (``max_keep_ckpts``) before it writes the new
    one, and rewrites ``last_checkpoint`` in place; a kill in between leaves ``last_checkpoint``
    naming a deleted file, or an empty ``last_checkpoint``. This hook writes the checkpoint
    (atomically, through :meth:`ResumableRunner.save_checkpoint
    <mmsr.engine.ResumableRunner.save_checkpoint>`), then points ``last_checkpoint`` at it with
    write-then-rename, and only then deletes expired checkpoints.
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
