"""SR backbones registered in MMSegmentation's ``MODELS`` (imported only when mmseg is)."""
from mmseg.models.backbones import ResNet, ResNetV1c, ResNetV1d
from mmseg.registry import MODELS

from .sr_backbone import ResNetStages, SRBackboneMixin


@MODELS.register_module()
class ResNetSR(SRBackboneMixin, ResNetStages, ResNet):
    """mmseg ``ResNet`` with an optional SR block and stage dropout (see ``SRBackboneMixin``)."""


@MODELS.register_module()
class ResNetV1cSR(SRBackboneMixin, ResNetStages, ResNetV1c):
    """mmseg ``ResNetV1c`` (deep stem) with an optional SR block and stage dropout."""


@MODELS.register_module()
class ResNetV1dSR(SRBackboneMixin, ResNetStages, ResNetV1d):
    """mmseg ``ResNetV1d`` (deep stem, avg-down) with an optional SR block and stage dropout."""
