"""SR backbones registered in MMPretrain's ``MODELS`` (imported only when mmpretrain is), and
the paper's baselines with stage dropout or block attention (no SR)."""
from __future__ import annotations

import functools
import math
from typing import List, Optional, Tuple

from mmengine.registry import DefaultScope
from mmpretrain.models.backbones import VGG, ResNet, ResNet_CIFAR, ResNetV1c, ResNetV1d
from mmpretrain.models.backbones.resnet import BasicBlock, Bottleneck
from mmpretrain.models.utils import SELayer
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ...errors import ConfigError
from .sr_backbone import ResNetStages, SRBackboneMixin, StageDropoutMixin, build_module

if 'SELayer' not in MODELS.module_dict:  # mmpretrain builds it directly; attention_cfg by type
    MODELS.register_module(module=SELayer)


class BlockAttentionMixin:
    """``attention_cfg``: a module in every residual block, on the residual branch after its
    last normalisation and before the addition (where ``SEResNet`` puts SE), built with
    ``MODELS.build(dict(attention_cfg, channels=C))``: the paper's "ResNet + SE / + CBAM" rows
    with ``dict(type='SELayer', ratio=16, divisor=1)`` or ``dict(type='CBAM', ratio=16,
    mlp_bias=False)``. The module is ``layerN.K.attention``."""

    def __init__(self, *args, attention_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.attention_cfg = attention_cfg
        if attention_cfg is None:
            return
        for name in self.res_layers:
            for block in getattr(self, name):
                if isinstance(block, Bottleneck):
                    last_norm = block.norm3
                elif isinstance(block, BasicBlock):
                    last_norm = block.norm2
                else:
                    raise ConfigError(f'attention_cfg: unsupported block {type(block).__name__}.')
                with DefaultScope.overwrite_default_scope('mmpretrain'):  # whatever is current
                    block.attention = build_module(
                        MODELS, dict(attention_cfg, channels=block.out_channels), 'attention_cfg')
                last_norm.register_forward_hook(functools.partial(_attend, block.attention))


def _attend(attention: nn.Module, _norm: nn.Module, _inputs, output: Tensor) -> Tensor:
    return attention(output)


@MODELS.register_module()
class ResNetSR(SRBackboneMixin, ResNetStages, ResNet):
    """mmpretrain ``ResNet`` with an optional SR block and stage dropout."""


@MODELS.register_module()
class ResNetV1cSR(SRBackboneMixin, ResNetStages, ResNetV1c):
    """mmpretrain ``ResNetV1c`` with an optional SR block and stage dropout."""


@MODELS.register_module()
class ResNetV1dSR(SRBackboneMixin, ResNetStages, ResNetV1d):
    """mmpretrain ``ResNetV1d`` with an optional SR block and stage dropout."""


@MODELS.register_module()
class ResNetStageDropout(StageDropoutMixin, ResNetStages, ResNet):
    """mmpretrain ``ResNet`` with the paper's stage dropout (D2D / DB baselines)."""


class _CIFARStem:
    stem_strides = ()  # 3x3 stride-1 stem, no max-pool


@MODELS.register_module()
class ResNet_CIFAR_SR(BlockAttentionMixin, SRBackboneMixin, _CIFARStem, ResNetStages,  # noqa: N801
                      ResNet_CIFAR):
    """mmpretrain ``ResNet_CIFAR`` (the paper's CIFAR ResNets) with an optional SR block, stage
    dropout and block attention."""


@MODELS.register_module()
class ResNet_CIFAR_StageDropout(StageDropoutMixin, _CIFARStem, ResNetStages,  # noqa: N801
                                ResNet_CIFAR):
    """mmpretrain ``ResNet_CIFAR`` with the paper's stage dropout (D2D / DB baselines)."""


@MODELS.register_module()
class ResNet_CIFAR_Attention(BlockAttentionMixin, ResNet_CIFAR):  # noqa: N801
    """mmpretrain ``ResNet_CIFAR`` with block attention (the SE / CBAM baselines)."""


@MODELS.register_module()
class VGGSR(SRBackboneMixin, VGG):
    """mmpretrain ``VGG`` with an optional SR block and stage dropout; a stage ends with its
    max-pool, so ``after_stage=k`` follows the k-th pool."""

    def stage_modules(self) -> List[nn.Module]:
        features = getattr(self, self.module_name)
        return [features[end - 1] for _, end in self.range_sub_modules]

    def stage_channels(self, stage: int) -> int:
        return 64 * 2**stage if stage < 4 else 512

    def stage_output_size(self, input_size: Tuple[int, int], stage: int) -> Tuple[int, int]:
        features = getattr(self, self.module_name)
        size = list(input_size)
        for index in range(self.range_sub_modules[stage][1]):
            pool = features[index]
            if isinstance(pool, nn.MaxPool2d):  # the 3x3 convolutions keep the size
                rounding = math.ceil if pool.ceil_mode else math.floor
                size = [rounding((n + 2 * pool.padding - pool.kernel_size) / pool.stride) + 1
                        for n in size]
        return tuple(size)


__all__ = ['ResNetSR', 'ResNetV1cSR', 'ResNetV1dSR', 'ResNetStageDropout', 'ResNet_CIFAR_SR',
           'ResNet_CIFAR_StageDropout', 'ResNet_CIFAR_Attention', 'VGGSR']
