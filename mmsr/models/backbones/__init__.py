"""SR backbones. ``sr_backbone`` needs only torch + mmengine; ``mmseg_backbones`` and
``mmpretrain_backbones`` are imported by :mod:`mmsr.models` when their codebase is installed."""
from .sr_backbone import ResNetStages, SRBackboneMixin, StageDropoutMixin, StagedBackboneMixin

__all__ = ['StagedBackboneMixin', 'StageDropoutMixin', 'SRBackboneMixin', 'ResNetStages']
