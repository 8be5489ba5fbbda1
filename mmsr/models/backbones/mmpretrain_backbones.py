"""mmsr's backbones in MMPretrain's ``MODELS`` (imported only when mmpretrain is): one thin
subclass per upstream class, ``Plugged<Upstream>``, with ``sr_cfg`` and ``stage_dropout_cfg``
(:class:`~mmsr.models.backbones.sr_backbone.PluggedMixin`) and, on the ResNets,
``attention_cfg`` (:class:`BlockAttentionMixin`). The paper's baselines are the same classes
without ``sr_cfg``; with no option set a class is exactly its upstream class.
``PluggedResNetV1c`` is also registered as ``ResNetV1cSR``."""
from __future__ import annotations

import functools
from typing import Optional

from mmengine.registry import DefaultScope
from mmpretrain.models.backbones import VGG, ResNet, ResNet_CIFAR, ResNetV1c, ResNetV1d
from mmpretrain.models.backbones.resnet import BasicBlock, Bottleneck
from mmpretrain.models.utils import SELayer
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ...errors import ConfigError
from .sr_backbone import (CIFARResNetStages, PluggedMixin, ResNetStages, VGGStages, build_module,
                          residual_blocks)

if 'SELayer' not in MODELS.module_dict:  # mmpretrain builds it directly; attention_cfg by type
    MODELS.register_module(module=SELayer)


class BlockAttentionMixin:
    """``attention_cfg``: a module in every residual block, on the residual branch after its
    last normalisation and before the addition (where ``SEResNet`` puts SE), built with
    ``MODELS.build(dict(attention_cfg, channels=C))``: the paper's "ResNet + SE / + CBAM" rows
    with ``dict(type='SELayer', ratio=16, divisor=1)`` or ``dict(type='CBAM', ratio=16,
    mlp_bias=False)``. The module is a child of its block, ``layerN.K.attention``, ``(B, C, H,
    W) -> (B, C, H, W)``.

    It is applied by a forward hook on the block's last norm (``norm2`` / ``norm3``), the one
    hook mmsr registers: the block's ``forward`` calls its norm and then the addition in one
    function, so no child placed in the block runs between them without one.
    """

    def __init__(self, *args, attention_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.attention_cfg = attention_cfg
        if attention_cfg is None:
            return
        for stage in self.stage_modules():
            for block in residual_blocks(stage):
                if isinstance(block, Bottleneck):
                    last_norm = block.norm3
                elif isinstance(block, BasicBlock):
                    last_norm = block.norm2
                else:
                    raise ConfigError(f'attention_cfg: unsupported block {type(block).__name__}.')
                with DefaultScope.overwrite_default_scope('mmpretrain'):  # whatever is current
                    block.add_module('attention', build_module(
                        MODELS, dict(attention_cfg, channels=block.out_channels), 'attention_cfg'))
                last_norm.register_forward_hook(functools.partial(_attend, block.attention))


def _attend(attention: nn.Module, _norm: nn.Module, _inputs, output: Tensor) -> Tensor:
    return attention(output)


class PretrainResNetStages(ResNetStages):
    """``ResNetStages`` with mmpretrain's layer-wise learning-rate depth for the plug-ins."""

    def get_layer_depth(self, param_name: str, prefix: str = ''):
        """Upstream's; a plug-in (``backbone.layerN.sr_block.*``) has the depth of the
        stage's last block."""
        parts = param_name.split('.')  # as upstream: 'backbone.layerN.K.*'
        if param_name.startswith('backbone.layer') and len(parts) > 2 and not parts[2].isdigit():
            stage = getattr(self, parts[1], None)
            if isinstance(stage, nn.Sequential):
                parts[2] = str(len(residual_blocks(stage)) - 1)
                param_name = '.'.join(parts)
        return super().get_layer_depth(param_name, prefix)


class CIFARPretrainResNetStages(PretrainResNetStages, CIFARResNetStages):
    """``PretrainResNetStages`` with the CIFAR stem."""


@MODELS.register_module()
class PluggedResNet(BlockAttentionMixin, PluggedMixin, PretrainResNetStages, ResNet):
    """mmpretrain ``ResNet`` with mmsr's plug-in layers (``sr_cfg``, ``stage_dropout_cfg``,
    ``attention_cfg``)."""


@MODELS.register_module()
class PluggedResNetV1c(BlockAttentionMixin, PluggedMixin, PretrainResNetStages, ResNetV1c):
    """mmpretrain ``ResNetV1c`` with mmsr's plug-in layers; also registered as
    ``ResNetV1cSR``."""


MODELS.register_module(name='ResNetV1cSR', module=PluggedResNetV1c)


@MODELS.register_module()
class PluggedResNetV1d(BlockAttentionMixin, PluggedMixin, PretrainResNetStages, ResNetV1d):
    """mmpretrain ``ResNetV1d`` with mmsr's plug-in layers."""


@MODELS.register_module()
class PluggedResNet_CIFAR(BlockAttentionMixin, PluggedMixin,  # noqa: N801
                          CIFARPretrainResNetStages, ResNet_CIFAR):
    """mmpretrain ``ResNet_CIFAR`` (the paper's CIFAR ResNets) with mmsr's plug-in layers."""


@MODELS.register_module()
class PluggedVGG(PluggedMixin, VGGStages, VGG):
    """mmpretrain ``VGG`` with mmsr's plug-in layers (``sr_cfg``, ``stage_dropout_cfg``); a
    stage ends with its max-pool, so ``after_stage=k`` follows the k-th pool."""


__all__ = ['PluggedResNet', 'PluggedResNetV1c', 'PluggedResNetV1d', 'PluggedResNet_CIFAR',
           'PluggedVGG', 'BlockAttentionMixin']
