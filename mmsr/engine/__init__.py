"""Running: ``ResumableRunner`` (mmengine's ``RUNNERS``), ``CheckedTestLoop`` (``LOOPS``),
``StepSeedHook`` and ``AtomicCheckpointHook`` (``HOOKS``), and checkpoints that load safely."""
from . import safe_checkpoint
from .hooks import AtomicCheckpointHook, StepSeedHook
from .loops import CheckedTestLoop, build_checked_dataloader
from .runner import ResumableRunner, checkpoint_to_resume
from .work_dir import check_work_dir

__all__ = ['safe_checkpoint', 'AtomicCheckpointHook', 'StepSeedHook', 'CheckedTestLoop',
           'build_checked_dataloader', 'ResumableRunner', 'checkpoint_to_resume',
           'check_work_dir']
