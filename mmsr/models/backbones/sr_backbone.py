"""Plug-in layers inside the stages of an upstream CNN backbone: the paper's stage dropout and
the SR block. A backbone gains them by a thin subclass, as mmpretrain's ``SEResNet`` gains SE::

    @MODELS.register_module()
    class PluggedResNetV1c(PluggedMixin, ResNetStages, ResNetV1c):
        pass

A *stage adapter* (:class:`ResNetStages`, :class:`CIFARResNetStages`, :class:`VGGStages`)
tells :class:`PluggedMixin` where a family's stages are, their channels and output sizes, and
appends a module to a stage as a real child, run by the stage's own ``forward`` (no hooks):
``layer3.stage_dropout`` and ``layer3.sr_block`` in a ResNet, ``features.<i>.sr_block`` in a
VGG (the stage's last item becomes a ``Sequential`` of it and the plug-ins). With
``sr_cfg=None`` and no stage dropout nothing is added: the class is exactly its upstream
class, with the same outputs and ``state_dict`` keys.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Iterator, List, Optional, Sequence, Tuple

from mmengine.model import BaseModule
from mmengine.model.weight_init import initialize
from mmengine.registry import MODELS
from torch import nn

from ...errors import ConfigError
from ...utils.size import to_size
from ..layers import SRBlock

SR_CFG_KEYS = {'after_stage', 'num_memory_blocks', 'hidden_channels', 'memory_size',
               'input_size', 'act_cfg', 'enabled', 'triton_recall'}

#: names of the modules :class:`PluggedMixin` appends to a stage, in the order they run.
PLUG_IN_NAMES = ('stage_dropout', 'sr_block')


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


class BackboneStages:
    """The interface of a stage adapter: what a backbone family tells :class:`PluggedMixin`.
    Stages are 0-based here (``index``), counted from 1 in configs (as ``M`` in the paper)."""

    def stage_modules(self) -> List[nn.Module]:
        """One module per stage whose output is the stage's output (after its plug-ins)."""
        raise NotImplementedError

    def stage_channels(self, index: int) -> int:
        """Channels ``C`` of stage ``index``'s output."""
        raise NotImplementedError

    def stage_output_size(self, input_size: Tuple[int, int], index: int) -> Tuple[int, int]:
        """``(H, W)`` of stage ``index``'s output for an ``(H, W)`` input."""
        raise NotImplementedError

    def append_to_stage(self, index: int, name: str, module: nn.Module) -> None:
        """Make ``module`` a child ``name`` of stage ``index`` that runs on the stage's output,
        after the stage and the modules appended before it."""
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


def residual_blocks(stage: nn.Sequential) -> List[nn.Module]:
    """The blocks a ``ResLayer`` was built with (children ``0..n-1``), without plug-ins."""
    return [module for name, module in stage.named_children() if name.isdigit()]


class ResNetStages(BackboneStages):
    """The stages ``layer1..layerN`` (``ResLayer``, an ``nn.Sequential``) of the mmseg and
    mmpretrain ResNets; a plug-in is appended to the ``Sequential``, after its blocks.

    Every stride of a ResNet (stem convolution, max-pool, 3x3 or 1x1 strided convolution,
    ``avg_down`` pooling) maps ``n`` to ``ceil(n / s)``; dilation does not change the size.
    """

    #: the strides of the stem (convolution, max-pool).
    stem_strides: Sequence[int] = (2, 2)

    def stage_modules(self) -> List[nn.Module]:
        return [getattr(self, name) for name in self.res_layers]

    def stage_channels(self, index: int) -> int:
        last_block = residual_blocks(self.stage_modules()[index])[-1]
        if hasattr(last_block, 'out_channels'):  # mmpretrain blocks
            return last_block.out_channels
        return self.base_channels * 2**index * self.block.expansion  # mmseg blocks

    def stage_output_size(self, input_size: Tuple[int, int], index: int) -> Tuple[int, int]:
        strides = list(self.stem_strides) + list(self.strides[:index + 1])
        return tuple(conv_output_size(n, strides) for n in input_size)

    def append_to_stage(self, index: int, name: str, module: nn.Module) -> None:
        self.stage_modules()[index].add_module(name, module)


class CIFARResNetStages(ResNetStages):
    """``ResNetStages`` of mmpretrain's ``ResNet_CIFAR``: a 3x3 stride-1 stem, no max-pool."""

    stem_strides = ()


class VGGStages(BackboneStages):
    """The stages of mmpretrain's ``VGG``: ``features[start:end]`` for each
    ``range_sub_modules`` entry, ending with the stage's max-pool (so ``after_stage=k`` follows
    the k-th pool; without ``with_last_pool`` the last stage ends with its ReLU). A plug-in
    replaces ``features[end - 1]`` by ``Sequential(pool=<it>, <plug-ins>...)``: ``VGG.forward``
    indexes ``features`` as before, and the parameter-free item keeps its (no) keys."""

    def _stage_end(self, index: int) -> Tuple[nn.Sequential, int]:
        return getattr(self, self.module_name), self.range_sub_modules[index][1] - 1

    def stage_modules(self) -> List[nn.Module]:
        features = getattr(self, self.module_name)
        return [features[end - 1] for _, end in self.range_sub_modules]

    def stage_channels(self, index: int) -> int:
        return 64 * 2**index if index < 4 else 512  # as VGG builds them

    def stage_output_size(self, input_size: Tuple[int, int], index: int) -> Tuple[int, int]:
        features, end = self._stage_end(index)
        size = list(input_size)
        for item in features[:end + 1]:
            for pool in item.modules():  # the item itself, or inside a plugged stage end
                if isinstance(pool, nn.MaxPool2d):  # the 3x3 convolutions keep the size
                    rounding = math.ceil if pool.ceil_mode else math.floor
                    size = [rounding((n + 2 * pool.padding - pool.kernel_size) / pool.stride) + 1
                            for n in size]
        return tuple(size)

    def append_to_stage(self, index: int, name: str, module: nn.Module) -> None:
        features, end = self._stage_end(index)
        last = features[end]
        if not isinstance(last, nn.Sequential):  # VGG's own items are never Sequential
            own = 'pool' if isinstance(last, nn.MaxPool2d) else type(last).__name__.lower()
            last = nn.Sequential(OrderedDict([(own, last)]))
            features[end] = last
        last.add_module(name, module)


class PluggedMixin(BackboneStages):
    """The options mmsr adds to a backbone with a stage adapter; each places a child module at
    the end of a stage, so it runs there on the stage's output ``(B, C, H, W)``.

    Args (in addition to the upstream class's):
        sr_cfg: ``dict(after_stage=M, num_memory_blocks=P, hidden_channels=h,
            memory_size=(H, W))``: an :class:`SRBlock` at the end of stage ``M`` (counted from
            1 as in the paper; ResNet: ``layerM.sr_block``). Instead of ``memory_size``,
            ``input_size=(H, W)``: the training input (crop) size, from which the memory size
            follows by the backbone's strides. ``act_cfg``, ``enabled`` and ``triton_recall``
            are passed to the block. ``None``: no SR block.
        stage_dropout_cfg: ``dict(type='Dropout2d', p=0.1, after_stages=(3, 4))`` or
            ``dict(type='DropBlock', p=0.1, block_size=7, after_stages=(3, ))``: the paper's
            D2D / DB on the output of those stages, in training only (``layerM.stage_dropout``,
            no parameters); built with ``MODELS.build``, so any registered dropout works. Where
            it meets the SR block it comes first: the block sees, and adds memory to, the
            dropped map.

    The plug-ins belong to their stage: ``frozen_stages`` freezes them with it.
    """

    def __init__(self, *args, sr_cfg: Optional[dict] = None,
                 stage_dropout_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sr_cfg = sr_cfg
        self.stage_dropout_cfg = stage_dropout_cfg
        if stage_dropout_cfg is not None:
            self._add_stage_dropout(dict(stage_dropout_cfg))
        if sr_cfg is not None:
            self._add_sr_block(dict(sr_cfg))
        self._freeze_plugged_stages()

    def _add_stage_dropout(self, cfg: dict) -> None:
        stages = cfg.pop('after_stages', None)
        if not stages:
            raise ConfigError(f'{type(self).__name__}: stage_dropout_cfg needs after_stages, '
                              'e.g. (3, 4), counted from 1.')
        for index in sorted({self._stage_index(s, 'stage_dropout_cfg.after_stages')
                             for s in stages}):
            self.append_to_stage(index, 'stage_dropout',
                                 build_module(MODELS, cfg, 'stage_dropout_cfg'))

    def _add_sr_block(self, cfg: dict) -> None:
        name = type(self).__name__
        unknown = set(cfg) - SR_CFG_KEYS
        if unknown:
            raise ConfigError(f'{name}: unknown sr_cfg keys {sorted(unknown)}; allowed: '
                              f'{sorted(SR_CFG_KEYS)}.')
        if 'after_stage' not in cfg:
            raise ConfigError(f'{name}: sr_cfg needs after_stage=M (the stage the SR block '
                              'follows, counted from 1).')
        index = self._stage_index(cfg.pop('after_stage'), 'sr_cfg.after_stage')
        memory_size, input_size = cfg.pop('memory_size', None), cfg.pop('input_size', None)
        if (memory_size is None) == (input_size is None):
            raise ConfigError(f'{name}: sr_cfg needs exactly one of memory_size=(H, W) (the '
                              'feature size after the stage) or input_size=(H, W) (the training '
                              'input size, from which the memory size is derived).')
        if input_size is not None:
            memory_size = self.stage_output_size(to_size(input_size, 'sr_cfg.input_size'), index)
        self.append_to_stage(index, 'sr_block', SRBlock(
            in_channels=self.stage_channels(index), memory_size=memory_size, **cfg))

    def _freeze_plugged_stages(self) -> None:
        """Upstream ``__init__`` froze ``frozen_stages`` before the plug-ins existed."""
        if getattr(self, 'frozen_stages', -1) > 0 and hasattr(self, '_freeze_stages'):
            self._freeze_stages()

    def plug_ins(self) -> Iterator[Tuple[str, nn.Module]]:
        """``(name, module)`` of every module this class appended to a stage."""
        for name, module in self.named_modules():
            if name.rpartition('.')[2] in PLUG_IN_NAMES:
                yield name, module

    def _init_cfgs(self) -> List[dict]:
        """The backbone's ``init_cfg`` as a list (empty without one)."""
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        return [cfg for cfg in cfgs if cfg]

    def init_weights(self) -> None:
        """Upstream's ``init_weights`` on the backbone without its plug-ins, then, on each
        plug-in in the order they were added, the backbone's ``init_cfg`` (Kaiming, ...) and its
        own ``init_weights``: the random numbers every module draws are those of the plug-ins
        following the whole backbone, wherever they sit, and the plug-ins are reached also in a
        stage that is a plain ``nn.Sequential``, which mmengine's recursion skips (mmpretrain).
        With a ``Pretrained`` ``init_cfg``, upstream's ``init_weights`` runs with the plug-ins in
        place, so the checkpoint loads their keys if it has them."""
        cfgs = self._init_cfgs()
        if any(isinstance(cfg, dict) and cfg.get('type') == 'Pretrained' for cfg in cfgs):
            super().init_weights()
            return
        plug_ins = []
        for name, module in list(self.plug_ins()):
            parent_name, _, child = name.rpartition('.')
            plug_ins.append((self.get_submodule(parent_name), child, module))
        for parent, child, _ in plug_ins:
            delattr(parent, child)
        try:
            super().init_weights()
        finally:
            for parent, child, module in plug_ins:
                parent.add_module(child, module)  # back at the end of its stage, in order
        for _, _, module in plug_ins:
            if cfgs:
                initialize(module, cfgs)
            if isinstance(module, BaseModule) and not module.is_init:
                module.init_weights()
