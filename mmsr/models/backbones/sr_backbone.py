"""What every SR backbone shares: ``sr_cfg`` and ``stage_dropout_cfg`` applied after stages.

A backbone class gains the SR block as a thin subclass, as mmpretrain's ``SEResNet`` gains SE::

    @MODELS.register_module()
    class ResNetV1cSR(ResNetSRMixin, ResNetV1c):
        pass

The mixin adds the modules and a forward hook on the chosen stages; the upstream ``forward``
runs unchanged. With ``sr_cfg=None`` and no stage dropout nothing is added, so the class is
exactly its upstream class: same outputs, same ``state_dict`` keys.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

from torch import Tensor, nn

from ...errors import ConfigError
from ..layers import SRBlock, build_stage_dropout
from ..layers.sr_block import to_size

SR_CFG_KEYS = {'after_stage', 'num_memory_blocks', 'hidden_channels', 'memory_size',
               'input_size', 'act_cfg', 'resample_on_load', 'enabled'}


class SRBackboneMixin:
    """Adds an :class:`SRBlock` (``sr_cfg``) and the paper's structured dropout
    (``stage_dropout_cfg``) after stages of a staged CNN backbone.

    Args (in addition to the base class's):
        sr_cfg: ``dict(after_stage=M, num_memory_blocks=P, hidden_channels=h,
            memory_size=(H, W))``, ``M`` counted from 1 as in the paper (ResNet: after
            ``layerM``). Instead of ``memory_size`` give ``input_size=(H, W)``, the training
            input (crop) size, and the memory size is derived from the backbone's strides.
            ``act_cfg``, ``resample_on_load`` and ``enabled`` are passed to the block.
            ``None`` (default): no SR block.
        stage_dropout_cfg: ``dict(type='Dropout2d', p=0.1, after_stages=(3, 4))`` or
            ``dict(type='DropBlock', p=0.1, block_size=7, after_stages=(3,))``: dropout2d or
            DropBlock on the output of those stages, in training only. Where it meets the SR
            block, dropout comes first (the SR block sees, and adds memory to, the dropped map).

    The SR block is ``self.sr_block``; the dropouts are ``self.stage{M}_dropout`` (no
    parameters).
    """

    def __init__(self, *args, sr_cfg: Optional[dict] = None,
                 stage_dropout_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sr_cfg = sr_cfg
        self.stage_dropout_cfg = stage_dropout_cfg
        self.sr_stage: Optional[int] = None  # 0-based index of the stage the SR block follows
        hooked = set()
        if stage_dropout_cfg is not None:
            hooked |= self._build_stage_dropouts(dict(stage_dropout_cfg))
        if sr_cfg is not None:
            hooked.add(self._build_sr_block(dict(sr_cfg)))
        stages = self.sr_stage_modules()
        for index in sorted(hooked):
            module = output_module(stages[index])
            module.sr_stage_index = index  # read by the hook
            # A bound method (not a closure): deepcopy (EMA, model copies) re-binds it to the
            # copy's own SR block, and torch.compile inlines it on every supported torch.
            module.register_forward_hook(self._after_stage)

    # --- what a backbone family provides --------------------------------------------------
    def sr_stage_modules(self) -> List[nn.Module]:
        """One module per stage whose output is that stage's output."""
        raise NotImplementedError

    def sr_stage_channels(self, stage: int) -> int:
        """Channels of the output of stage ``stage`` (0-based)."""
        raise NotImplementedError

    def sr_feature_size(self, input_size: Tuple[int, int], stage: int) -> Tuple[int, int]:
        """Spatial size of the output of stage ``stage`` (0-based) for an input size."""
        raise NotImplementedError

    # --- building ------------------------------------------------------------------------
    def _stage_index(self, stage, what: str) -> int:
        num_stages = len(self.sr_stage_modules())
        if num_stages == 0:
            raise ConfigError(f'{type(self).__name__} has no stages, so {what} cannot be used '
                              'with it: remove it from the config.')
        if not isinstance(stage, int) or isinstance(stage, bool) or not 1 <= stage <= num_stages:
            raise ConfigError(f'{type(self).__name__}: {what}={stage!r} is not a stage of this '
                              f'backbone; it has stages 1..{num_stages} (counted from 1, as M in '
                              'the paper).')
        return stage - 1

    def _build_sr_block(self, cfg: dict) -> int:
        name = type(self).__name__
        unknown = set(cfg) - SR_CFG_KEYS
        if unknown:
            raise ConfigError(f'{name}: unknown sr_cfg keys {sorted(unknown)}; allowed: '
                              f'{sorted(SR_CFG_KEYS)}.')
        if 'after_stage' not in cfg:
            raise ConfigError(f'{name}: sr_cfg needs after_stage=M (the stage the SR block '
                              'follows, counted from 1).')
        stage = self._stage_index(cfg.pop('after_stage'), 'sr_cfg.after_stage')
        memory_size, input_size = cfg.pop('memory_size', None), cfg.pop('input_size', None)
        if (memory_size is None) == (input_size is None):
            raise ConfigError(f'{name}: sr_cfg needs exactly one of memory_size=(H, W) (the '
                              'feature size after the stage) or input_size=(H, W) (the training '
                              'input size, from which the memory size is derived).')
        if input_size is not None:
            memory_size = self.sr_feature_size(to_size(input_size, 'sr_cfg.input_size'), stage)
            if min(memory_size) < 1:
                raise ConfigError(f'{name}: input_size={input_size} leaves no feature map after '
                                  f'stage {stage + 1}; use a larger input_size.')
        self.sr_stage = stage
        self.sr_block = SRBlock(in_channels=self.sr_stage_channels(stage),
                                memory_size=memory_size, **cfg)
        return stage

    def _build_stage_dropouts(self, cfg: dict) -> set:
        stages = cfg.pop('after_stages', None)
        if not stages:
            raise ConfigError(f'{type(self).__name__}: stage_dropout_cfg needs after_stages, '
                              'e.g. (3, 4), counted from 1.')
        indices = {self._stage_index(s, 'stage_dropout_cfg.after_stages') for s in stages}
        for index in indices:
            self.add_module(f'stage{index + 1}_dropout', build_stage_dropout(cfg))
        return indices

    def _after_stage(self, module: nn.Module, inputs, output: Tensor) -> Tensor:
        """Forward hook on the output module of a stage: its dropout, then the SR block."""
        index = module.sr_stage_index
        dropout = getattr(self, f'stage{index + 1}_dropout', None)
        if dropout is not None:
            output = dropout(output)
        if self.sr_stage == index:
            output = self.sr_block(output)
        return output


def output_module(stage: nn.Module) -> nn.Module:
    """The module whose output is the stage's output, for the stage's forward hook: the last
    block of a plain ``nn.Sequential`` stage (a ResNet ``ResLayer``), since torch.compile on
    torch 2.1 unrolls a Sequential into its children without running the Sequential's own
    hooks; a block's hooks run there as on any torch."""
    while (isinstance(stage, nn.Sequential) and len(stage)
           and type(stage).forward is nn.Sequential.forward):
        stage = stage[-1]
    return stage


def conv_output_size(size: int, strides: Sequence[int], ceil: bool = True) -> int:
    """Size after a chain of stride-``s`` convolutions/pools with 'same'-style padding."""
    for stride in strides:
        size = math.ceil(size / stride) if ceil else size // stride
    return size


class ResNetSRMixin(SRBackboneMixin):
    """SR for the mmseg and mmpretrain ResNet families (stages ``layer1..layerN``).

    Every stride of a ResNet (stem convolution, max-pool, 3x3 or 1x1 strided convolution,
    ``avg_down`` pooling) maps ``n`` to ``ceil(n / s)``; dilation does not change the size.
    """

    #: total stride of the stem (conv + max-pool); 1 for the CIFAR stem.
    sr_stem_stride: Sequence[int] = (2, 2)

    def sr_stage_modules(self) -> List[nn.Module]:
        return [getattr(self, name) for name in self.res_layers]

    def sr_stage_channels(self, stage: int) -> int:
        last_block = self.sr_stage_modules()[stage][-1]
        if hasattr(last_block, 'out_channels'):  # mmpretrain blocks
            return last_block.out_channels
        return self.base_channels * 2**stage * self.block.expansion  # mmseg blocks

    def sr_feature_size(self, input_size: Tuple[int, int], stage: int) -> Tuple[int, int]:
        strides = list(self.sr_stem_stride) + list(self.strides[:stage + 1])
        return tuple(conv_output_size(n, strides) for n in input_size)
