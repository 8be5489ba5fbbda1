"""mmsr's backbones in MMSegmentation's ``MODELS`` (imported only when mmseg is): one thin
subclass per upstream class, ``Plugged<Upstream>``, with ``sr_cfg`` and ``stage_dropout_cfg``
(:class:`~mmsr.models.backbones.sr_backbone.PluggedMixin`); without them a class is exactly
its upstream class. ``PluggedResNetV1c`` is also registered as ``ResNetV1cSR``."""
from mmseg.models.backbones import ResNet, ResNetV1c, ResNetV1d
from mmseg.registry import MODELS

from .sr_backbone import PluggedMixin, ResNetStages


@MODELS.register_module()
class PluggedResNet(PluggedMixin, ResNetStages, ResNet):
    """mmseg ``ResNet`` with mmsr's plug-in layers (``sr_cfg``, ``stage_dropout_cfg``)."""


@MODELS.register_module()
class PluggedResNetV1c(PluggedMixin, ResNetStages, ResNetV1c):
    """mmseg ``ResNetV1c`` (deep stem) with mmsr's plug-in layers; also registered as
    ``ResNetV1cSR``."""


MODELS.register_module(name='ResNetV1cSR', module=PluggedResNetV1c)


@MODELS.register_module()
class PluggedResNetV1d(PluggedMixin, ResNetStages, ResNetV1d):
    """mmseg ``ResNetV1d`` (deep stem, avg-down) with mmsr's plug-in layers."""


__all__ = ['PluggedResNet', 'PluggedResNetV1c', 'PluggedResNetV1d']
