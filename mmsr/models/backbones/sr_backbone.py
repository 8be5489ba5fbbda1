"""Modules after the stages of an upstream CNN backbone: the paper's stage dropout and the SR
block, added by thin subclasses, as mmpretrain's ``SEResNet`` adds SE::

    @MODELS.register_module()
    class ResNetV1cSR(SRBackboneMixin, ResNetStages, ResNetV1c):
        pass

A mixin adds its modules and a forward hook on the stage's output; the upstream ``forward``
runs unchanged. With ``sr_cfg=None`` (and no stage dropout) nothing is added, so the class is
exactly its upstream class: same outputs, same ``state_dict`` keys.
"""
from __future__ import annotations

import math
from typing import Callable, List, Optional, Sequence, Tuple

from mmengine.registry import MODELS
from torch import Tensor, nn

from ...errors import ConfigError
from ...utils.size import to_size
from ..layers import SRBlock

SR_CFG_KEYS = {'after_stage', 'num_memory_blocks', 'hidden_channels', 'memory_size',
               'input_size', 'act_cfg', 'enabled', 'triton_recall'}


def output_module(stage: nn.Module) -> nn.Module:
    """The module whose output is the stage's output, for the stage's forward hooks: the last
    block of a plain ``nn.Sequential`` stage (a ResNet ``ResLayer``), since torch.compile on
    torch 2.1 unrolls a Sequential into its children without running the Sequential's own
    hooks; a block's hooks run there as on any torch."""
    while (isinstance(stage, nn.Sequential) and len(stage)
           and type(stage).forward is nn.Sequential.forward):
        stage = stage[-1]
    return stage


def conv_output_size(size: int, strides: Sequence[int]) -> int:
    """Size after a chain of stride-``s`` convolutions/pools with 'same'-style padding."""
    for stride in strides:
        size = math.ceil(size / stride)
    return size


def build_module(registry, cfg: dict, what: str) -> nn.Module:
    """``registry.build(cfg)``; an unknown type is a :class:`ConfigError` naming ``what``."""
    try:
        return registry.build(cfg)
    except KeyError as error:
        raise ConfigError(f'{what}: {error.args[0] if error.args else error}') from None


class StagedBackboneMixin:
    """What a backbone family tells the mixins: its stages, their channels and output sizes."""

    def stage_modules(self) -> List[nn.Module]:
        """One module per stage whose output is that stage's output."""
        raise NotImplementedError

    def stage_channels(self, stage: int) -> int:
        """Channels of the output of stage ``stage`` (0-based)."""
        raise NotImplementedError

    def stage_output_size(self, input_size: Tuple[int, int], stage: int) -> Tuple[int, int]:
        """Spatial size of the output of stage ``stage`` (0-based) for an input size."""
        raise NotImplementedError

    def _stage_index(self, stage, what: str) -> int:
        """The 0-based index of stage ``M`` (counted from 1, as in the paper)."""
        num_stages = len(self.stage_modules())
        if num_stages == 0:
            raise ConfigError(f'{type(self).__name__} has no stages, so {what} cannot be used '
                              'with it: remove it from the config.')
        if not isinstance(stage, int) or isinstance(stage, bool) or not 1 <= stage <= num_stages:
            raise ConfigError(f'{type(self).__name__}: {what}={stage!r} is not a stage of this '
                              f'backbone; it has stages 1..{num_stages} (counted from 1, as M in '
                              'the paper).')
        return stage - 1

    def _hook_stage(self, index: int, hook: Callable) -> None:
        """Run ``hook(module, inputs, output)`` on stage ``index``'s output, after the hooks
        registered before it. A bound method, not a closure: deepcopy (EMA, model copies)
        re-binds it to the copy, and torch.compile inlines it on every supported torch."""
        module = output_module(self.stage_modules()[index])
        module.after_stage_index = index  # read by the hook
        module.register_forward_hook(hook)


class StageDropoutMixin(StagedBackboneMixin):
    """``stage_dropout_cfg=dict(type='Dropout2d', p=0.1, after_stages=(3, 4))`` or
    ``dict(type='DropBlock', p=0.1, block_size=7, after_stages=(3,))``: the paper's D2D / DB,
    on the output of those stages (counted from 1), in training only; ``self.stage{M}_dropout``
    (no parameters). Built with ``MODELS.build``, so any registered dropout module works."""

    def __init__(self, *args, stage_dropout_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stage_dropout_cfg = stage_dropout_cfg
        if stage_dropout_cfg is None:
            return
        cfg = dict(stage_dropout_cfg)
        stages = cfg.pop('after_stages', None)
        if not stages:
            raise ConfigError(f'{type(self).__name__}: stage_dropout_cfg needs after_stages, '
                              'e.g. (3, 4), counted from 1.')
        for index in sorted({self._stage_index(s, 'stage_dropout_cfg.after_stages')
                             for s in stages}):
            self.add_module(f'stage{index + 1}_dropout',
                            build_module(MODELS, cfg, 'stage_dropout_cfg'))
            self._hook_stage(index, self._drop_after_stage)

    def _drop_after_stage(self, module: nn.Module, inputs, output: Tensor) -> Tensor:
        return getattr(self, f'stage{module.after_stage_index + 1}_dropout')(output)


class SRBackboneMixin(StageDropoutMixin):
    """Adds an :class:`SRBlock` after a stage (``self.sr_block``), and stage dropout.

    Args (in addition to the base class's):
        sr_cfg: ``dict(after_stage=M, num_memory_blocks=P, hidden_channels=h,
            memory_size=(H, W))``, ``M`` counted from 1 as in the paper (ResNet: after
            ``layerM``). Instead of ``memory_size``, ``input_size=(H, W)``: the training input
            (crop) size, from which the memory size follows by the backbone's strides.
            ``act_cfg``, ``enabled`` and ``triton_recall`` are passed to the block. ``None``:
            no SR block.
        stage_dropout_cfg: see :class:`StageDropoutMixin`. Where it meets the SR block, dropout
            comes first (the SR block sees, and adds memory to, the dropped map).
    """

    def __init__(self, *args, sr_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sr_cfg = sr_cfg
        if sr_cfg is None:
            return
        name, cfg = type(self).__name__, dict(sr_cfg)
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
            memory_size = self.stage_output_size(to_size(input_size, 'sr_cfg.input_size'), stage)
        self.sr_block = SRBlock(in_channels=self.stage_channels(stage), memory_size=memory_size,
                                **cfg)
        self._hook_stage(stage, self._sr_after_stage)

    def _sr_after_stage(self, module: nn.Module, inputs, output: Tensor) -> Tensor:
        return self.sr_block(output)


class ResNetStages(StagedBackboneMixin):
    """The stages ``layer1..layerN`` of the mmseg and mmpretrain ResNets.

    Every stride of a ResNet (stem convolution, max-pool, 3x3 or 1x1 strided convolution,
    ``avg_down`` pooling) maps ``n`` to ``ceil(n / s)``; dilation does not change the size.
    """

    #: the strides of the stem (convolution, max-pool); ``()`` for the CIFAR stem.
    stem_strides: Sequence[int] = (2, 2)

    def stage_modules(self) -> List[nn.Module]:
        return [getattr(self, name) for name in self.res_layers]

    def stage_channels(self, stage: int) -> int:
        last_block = self.stage_modules()[stage][-1]
        if hasattr(last_block, 'out_channels'):  # mmpretrain blocks
            return last_block.out_channels
        return self.base_channels * 2**stage * self.block.expansion  # mmseg blocks

    def stage_output_size(self, input_size: Tuple[int, int], stage: int) -> Tuple[int, int]:
        strides = list(self.stem_strides) + list(self.strides[:stage + 1])
        return tuple(conv_output_size(n, strides) for n in input_size)
