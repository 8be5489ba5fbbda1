from . import safe_checkpoint
from .hooks import AtomicCheckpointHook, StepSeedHook
from .runner import ResumableRunner, checkpoint_to_resume
from .work_dir import check_work_dir

__all__ = ['safe_checkpoint', 'AtomicCheckpointHook', 'StepSeedHook', 'ResumableRunner',
           'checkpoint_to_resume', 'check_work_dir']
