"""SR backbones registered in MMPretrain's ``MODELS`` (imported only when mmpretrain is)."""
from __future__ import annotations

import functools
import math
from typing import List, Optional, Tuple

from mmpretrain.models.backbones import (VGG, ResNet, ResNet_CIFAR, ResNetV1c, ResNetV1d,
                                         SEResNet)
from mmpretrain.models.backbones.resnet import BasicBlock, Bottleneck
from mmpretrain.models.utils import SELayer
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ...errors import ConfigError
from ..layers import CBAM
from .sr_backbone import ResNetSRMixin, SRBackboneMixin


def _apply_module(module: nn.Module, _hooked: nn.Module, _inputs, output: Tensor) -> Tensor:
    return module(output)


def build_block_attention(cfg: dict, channels: int) -> nn.Module:
    """``dict(type='SE', ratio=16)`` or ``dict(type='CBAM', ratio=16, kernel_size=7)``."""
    cfg = dict(cfg)
    kind = cfg.pop('type', None)
    if kind == 'SE':
        return SELayer(channels, **cfg)
    if kind == 'CBAM':
        return CBAM(channels, **cfg)
    raise ConfigError(f"attention_cfg type must be 'SE' or 'CBAM', got {kind!r}.")


class PretrainResNetSRMixin(ResNetSRMixin):
    """ResNet SR for mmpretrain, plus ``attention_cfg``: SE or CBAM in every residual block,
    on the residual branch after its last normalisation and before the addition (where
    ``SEResNet`` puts SE), for the paper's "ResNet + SE / + CBAM" rows. The module is
    ``layerN.K.attention``."""

    def __init__(self, *args, attention_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.attention_cfg = attention_cfg
        if attention_cfg is None:
            return
        for stage in self.sr_stage_modules():
            for block in stage:
                if isinstance(block, Bottleneck):
                    last_norm = block.norm3
                elif isinstance(block, BasicBlock):
                    last_norm = block.norm2
                else:
                    raise TypeError(f'attention_cfg: unsupported block {type(block).__name__}.')
                block.attention = build_block_attention(attention_cfg, block.out_channels)
                last_norm.register_forward_hook(functools.partial(_apply_module, block.attention))


@MODELS.register_module()
class ResNetSR(PretrainResNetSRMixin, ResNet):
    """mmpretrain ``ResNet`` with optional SR block, stage dropout and SE/CBAM attention."""


@MODELS.register_module()
class ResNetV1cSR(PretrainResNetSRMixin, ResNetV1c):
    """mmpretrain ``ResNetV1c`` with optional SR block, stage dropout and SE/CBAM attention."""


@MODELS.register_module()
class ResNetV1dSR(PretrainResNetSRMixin, ResNetV1d):
    """mmpretrain ``ResNetV1d`` with optional SR block, stage dropout and SE/CBAM attention."""


@MODELS.register_module()
class ResNet_CIFAR_SR(PretrainResNetSRMixin, ResNet_CIFAR):  # noqa: N801 (upstream's name)
    """mmpretrain ``ResNet_CIFAR`` (3x3 stem, no max-pool) with optional SR block, stage
    dropout and SE/CBAM attention: the paper's CIFAR ResNets."""

    sr_stem_stride = ()


@MODELS.register_module()
class SEResNetSR(ResNetSRMixin, SEResNet):
    """mmpretrain ``SEResNet`` with an optional SR block and stage dropout."""


@MODELS.register_module()
class VGGSR(SRBackboneMixin, VGG):
    """mmpretrain ``VGG`` with an optional SR block and stage dropout; a stage ends with its
    max-pool, so ``after_stage=M`` follows the M-th pool."""

    def sr_stage_modules(self) -> List[nn.Module]:
        features = getattr(self, self.module_name)
        return [features[end - 1] for _, end in self.range_sub_modules]

    def sr_stage_channels(self, stage: int) -> int:
        return 64 * 2**stage if stage < 4 else 512

    def sr_feature_size(self, input_size: Tuple[int, int], stage: int) -> Tuple[int, int]:
        features = getattr(self, self.module_name)
        size = list(input_size)
        for index in range(self.range_sub_modules[stage][1]):
            pool = features[index]
            if isinstance(pool, nn.MaxPool2d):  # the 3x3 convolutions keep the size
                rounding = math.ceil if pool.ceil_mode else math.floor
                size = [rounding((n + 2 * pool.padding - pool.kernel_size) / pool.stride) + 1
                        for n in size]
        return tuple(size)
