"""mmsr's backbones. ``sr_backbone`` (the stage adapters and :class:`PluggedMixin`) needs only
torch + mmengine; ``mmseg_backbones`` and ``mmpretrain_backbones`` are imported by
:mod:`mmsr.models` when their codebase is installed."""
from .sr_backbone import (BackboneStages, CIFARResNetStages, PluggedMixin, ResNetStages,
                          VGGStages)

__all__ = ['BackboneStages', 'ResNetStages', 'CIFARResNetStages', 'VGGStages', 'PluggedMixin']
