"""The Squeeze-and-Remember (SR) block.

Needs only torch and mmengine, so it can be used, timed and exported as plain PyTorch.
"""
from __future__ import annotations

import math
import warnings
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from ...errors import ConfigError
from ...torch_features import autocast_enabled

SizeLike = Union[int, Sequence[int]]

# Activations accepted by ``act_cfg`` (no mmcv needed); ``None`` means the identity.
_ACTIVATIONS = {'ReLU': nn.ReLU, 'GELU': nn.GELU, 'SiLU': nn.SiLU, 'Tanh': nn.Tanh,
                'Sigmoid': nn.Sigmoid, 'LeakyReLU': nn.LeakyReLU}


def to_size(value: SizeLike, name: str) -> Tuple[int, int]:
    """``7`` or ``(7, 9)`` as a positive ``(H, W)`` tuple; a clear error otherwise."""
    if isinstance(value, int):
        size = (value, value)
    else:
        try:
            size = tuple(value)
        except TypeError:
            size = ()
    if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0
                                 for s in size):
        raise ConfigError(f'{name} must be a positive int or a pair (H, W) of positive ints, '
                          f'got {value!r}.')
    return size  # type: ignore[return-value]


def _uniform_fan_in_(weight: Tensor, bias: Optional[Tensor], fan_in: int) -> None:
    """The paper's init: U(-sqrt(k), sqrt(k)) with k = 1 / fan_in, for weight and bias."""
    bound = 1.0 / math.sqrt(fan_in)
    nn.init.uniform_(weight, -bound, bound)
    if bias is not None:
        nn.init.uniform_(bias, -bound, bound)


def build_activation(act_cfg: Optional[dict]) -> Optional[nn.Module]:
    """The activation module for ``act_cfg``; ``None`` for the identity (no module, so that
    module-level tools such as mmengine's FLOP counter see no layer that is never called)."""
    if act_cfg is None:
        return None
    cfg = dict(act_cfg)
    act_type = cfg.pop('type', None)
    if act_type not in _ACTIVATIONS:
        raise ConfigError(f'act_cfg type must be one of {sorted(_ACTIVATIONS)} or act_cfg=None '
                          f'(identity), got {act_type!r}.')
    return _ACTIVATIONS[act_type](**cfg)


class SRSqueeze(nn.Conv2d):
    """The "squeeze" step: a 1x1 convolution ``C -> 1`` with bias, ``(B, C, H, W) -> (B, 1, H, W)``.

    A ``Conv2d`` (same parameters, ``state_dict`` keys and FLOPs), computed as a
    matrix-vector product over the channels (one matrix product for a single sample, a batched
    one otherwise: ops that mmengine's FLOP counter knows), which on the CPU is several times
    faster than a one-output-channel convolution; channels-last inputs are read in place.
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__(in_channels, 1, kernel_size=1, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, height, width = x.shape
        weight, bias = self.weight, self.bias
        if weight.dtype != x.dtype:
            weight, bias = weight.to(x.dtype), bias.to(x.dtype)
        if batch == 1 and x.is_contiguous():
            # bias + (1, C) @ (C, H*W), x read in place: the least overhead (single images).
            squeezed = torch.addmm(bias.view(1, 1), weight.view(1, channels),
                                   x.view(channels, height * width))
            return squeezed.view(1, 1, height, width)
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            # (B, H*W, C) @ (B, C, 1), read in place.
            pixels = x.permute(0, 2, 3, 1).reshape(batch, height * width, channels)
            squeezed = torch.bmm(pixels, weight.view(1, channels, 1).expand(batch, -1, -1))
        else:
            # (B, 1, C) @ (B, C, H*W): a batched product keeps x's layout in both directions
            # (torch.matmul would fold it into one transposed, copied matrix).
            squeezed = torch.bmm(weight.view(1, 1, channels).expand(batch, -1, -1),
                                 x.reshape(batch, channels, height * width))
        return squeezed.view(batch, 1, height, width) + bias.view(1, 1, 1, 1)


class SRRemember(nn.Module):
    """The "remember" step: a two-layer FCN from the squeezed map to softmax memory weights.

    ``B x (H*W) -> fc1 -> act -> fc2 -> softmax -> B x P``. The softmax is computed in fp32
    (also under autocast; fp64 stays fp64). A forward hook on this module sees the weights of
    every forward.
    """

    def __init__(self, in_features: int, hidden_channels: int, num_memory_blocks: int,
                 act_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_channels)
        self.act = build_activation(act_cfg)
        self.fc2 = nn.Linear(hidden_channels, num_memory_blocks)

    def reset_parameters(self) -> None:
        for fc in (self.fc1, self.fc2):
            _uniform_fan_in_(fc.weight, fc.bias, fc.in_features)

    def forward(self, z: Tensor) -> Tensor:
        hidden = self.fc1(z)
        if self.act is not None:
            hidden = self.act(hidden)
        logits = self.fc2(hidden)
        # At least fp32 (fp16/bf16 logits, autocast); fp64 stays fp64. (A dtype comparison,
        # not torch.promote_types, which torch.compile cannot trace on torch 2.1.)
        dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
        return torch.softmax(logits, dim=1, dtype=dtype)


@MODELS.register_module()
class SRBlock(BaseModule):
    """Squeeze-and-Remember block: ``Y = X + sum_i softmax(FCN(conv1x1(X)))_i * M_i``.

    1. Squeeze: 1x1 convolution ``C -> 1`` (with bias).
    2. Remember: the squeezed map, flattened, through ``H*W -> h -> P`` and a softmax.
    3. Add: the softmax-weighted sum of the ``P`` memory blocks ``M`` (``P x C x H x W``,
       zero-initialised, learned) is added to the input.

    A new block is an exact identity (``M = 0``). Convolution and FCN are initialised as in the
    paper, ``U(-sqrt(k), sqrt(k))`` with ``k = 1 / fan_in``; :meth:`init_weights` restores this
    after any enclosing ``init_cfg`` (Kaiming, Normal, ...) has run, and a ``Pretrained``
    checkpoint that holds SR weights is loaded after it, as mmengine orders them.

    **Other input sizes.** The memory is learned at ``memory_size`` (the training feature size).
    For an input of any other ``H x W`` (whole-image or multi-scale testing) the squeezed map is
    area-pooled (``adaptive_avg_pool2d``) to ``memory_size`` before the FCN, and the recalled
    memory ``sum_i w_i M_i`` is resized bilinearly (``align_corners=False``) to ``H x W`` before
    the addition. Both maps are deterministic, and when the sizes match neither runs, so the
    block is exactly the paper's.

    Args:
        in_channels: ``C``, channels of the input feature map.
        memory_size: ``(H, W)`` of the memory, or one int for a square map.
        num_memory_blocks: ``P``, number of memory blocks. Default 2.
        hidden_channels: ``h``, hidden units of the FCN. Default 16 (paper: 8 on CIFAR,
            16 or 32 on ImageNet).
        act_cfg: activation between the two FC layers. Default ``None``: the identity, because
            the paper says "the first layer linearly transforms the feature map"; pass e.g.
            ``dict(type='ReLU')`` for a non-linear FCN.
        resample_on_load: what loading a ``state_dict`` saved with another memory size does.
            ``False`` (default): refuse, naming the setting that differs. ``True``: resize the
            saved memory, and the first FC layer's weights over the map (scaled by the ratio of
            the areas), bilinearly to ``memory_size``, with a warning. A different ``P``, ``h``
            or channel count is always refused.
        enabled: ``False`` switches the block's contribution off: ``forward`` returns its
            input unchanged (the weights are still computed for ``return_weights``). The
            parameters stay, so a trained checkpoint still loads: the paper's ablation
            ("removing the SR block costs 0.4%"). Also settable later as ``block.enabled``.
        init_cfg: mmengine init config; normally left ``None``.

    Shapes:
        ``forward(x)``: ``(B, C, H, W) -> (B, C, H, W)``; with ``return_weights=True`` also the
        memory weights ``(B, P)`` (fp32).
    """

    _abbr_ = 'sr_block'  # name prefix when built as an mmcv plugin layer

    def __init__(self, in_channels: int, memory_size: SizeLike, num_memory_blocks: int = 2,
                 hidden_channels: int = 16, act_cfg: Optional[dict] = None,
                 resample_on_load: bool = False, enabled: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        for name, value in (('in_channels', in_channels), ('num_memory_blocks', num_memory_blocks),
                            ('hidden_channels', hidden_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f'SRBlock: {name} must be an int >= 1, got {value!r}.')
        self.in_channels = in_channels
        self.memory_size = to_size(memory_size, 'SRBlock: memory_size')
        self.num_memory_blocks = num_memory_blocks
        self.hidden_channels = hidden_channels
        self.resample_on_load = resample_on_load
        self.enabled = bool(enabled)
        height, width = self.memory_size
        self.squeeze = SRSqueeze(in_channels)
        self.remember = SRRemember(height * width, hidden_channels, num_memory_blocks, act_cfg)
        self.memory = nn.Parameter(torch.zeros(num_memory_blocks, in_channels, height, width))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The paper's initialisation; the memory is zero, so the block is an identity."""
        _uniform_fan_in_(self.squeeze.weight, self.squeeze.bias, self.in_channels)
        self.remember.reset_parameters()
        nn.init.zeros_(self.memory)

    def init_weights(self) -> None:
        super().init_weights()
        if not self.init_cfg:
            # An enclosing backbone's init_cfg (e.g. Kaiming on every Conv2d) has already run on
            # our layers; mmengine calls this afterwards, so the paper's init wins.
            self.reset_parameters()

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, memory_size={self.memory_size}, '
                f'num_memory_blocks={self.num_memory_blocks}, '
                f'hidden_channels={self.hidden_channels}'
                + ('' if self.enabled else ', enabled=False'))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Refuse a checkpoint saved with other SR settings with an error that names them
        (mmengine's non-strict loading would otherwise skip the mismatched tensors silently)."""
        name = f'SR block {prefix or "(root)"}'
        memory = state_dict.get(prefix + 'memory')
        if memory is not None and memory.shape != self.memory.shape:
            saved_p, saved_c, saved_h, saved_w = memory.shape
            differs = [f'{setting}: checkpoint {saved} vs model {ours}'
                       for setting, saved, ours in (
                           ('num_memory_blocks (P)', saved_p, self.num_memory_blocks),
                           ('in_channels (C)', saved_c, self.in_channels)) if saved != ours]
            if differs:
                raise ConfigError(f'{name}: the checkpoint was saved with other SR settings '
                                  f'({"; ".join(differs)}). Use the same sr_cfg as the '
                                  'checkpoint, or train without loading its SR block.')
            if not self.resample_on_load:
                raise ConfigError(
                    f'{name}: the checkpoint\'s memory_size is {(saved_h, saved_w)} but the '
                    f'model\'s is {self.memory_size}. Use the checkpoint\'s memory_size (or '
                    'input_size), or set resample_on_load=True in sr_cfg to resize the memory.')
            self._resample_saved_tensors(state_dict, prefix, (saved_h, saved_w))
            warnings.warn(f'{name}: memory and remember.fc1 resampled from '
                          f'{(saved_h, saved_w)} to {self.memory_size} (resample_on_load=True).')
        hidden = state_dict.get(prefix + 'remember.fc2.weight')
        if hidden is not None and hidden.shape[1] != self.hidden_channels:
            raise ConfigError(f'{name}: the checkpoint was saved with hidden_channels (h) = '
                              f'{hidden.shape[1]}, the model has {self.hidden_channels}. Use '
                              'the same sr_cfg as the checkpoint.')
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def _resample_saved_tensors(self, state_dict: dict, prefix: str,
                                saved_size: Tuple[int, int]) -> None:
        """Resize the saved memory and fc1's weights over the map to ``memory_size``, in place:
        the children (remember.fc1) read the same dict (torch's and mmengine's
        ``load_state_dict`` pass a copy of the caller's dict)."""
        memory = state_dict[prefix + 'memory']
        state_dict[prefix + 'memory'] = F.interpolate(
            memory.float(), size=self.memory_size, mode='bilinear',
            align_corners=False).to(memory.dtype)
        fc1 = state_dict.get(prefix + 'remember.fc1.weight')
        if fc1 is not None:  # (h, H*W): resample over the map, keep its output scale
            grid = F.interpolate(fc1.float().view(fc1.shape[0], 1, *saved_size),
                                 size=self.memory_size, mode='bilinear', align_corners=False)
            scale = (saved_size[0] * saved_size[1]) / (self.memory_size[0] * self.memory_size[1])
            state_dict[prefix + 'remember.fc1.weight'] = (grid.flatten(1) * scale).to(fc1.dtype)

    def _check_input(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or x.dim() != 4:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ConfigError(f'SRBlock expects a 4-D tensor (B, C, H, W), got {shape}.')
        if x.shape[1] != self.in_channels:
            raise ConfigError(
                f'SRBlock was built for in_channels={self.in_channels} but the input has '
                f'{x.shape[1]} channels (shape {tuple(x.shape)}): set in_channels (or the SR '
                f'stage) to match the feature map it follows.')
        if x.dtype != self.memory.dtype and not autocast_enabled(x.device.type):
            raise ConfigError(
                f'SRBlock\'s parameters are {self.memory.dtype} but the input is {x.dtype}: '
                f'convert the block with the rest of the model (model.to({x.dtype})), or the '
                'input, or run under torch.autocast.')

    def memory_weights(self, x: Tensor) -> Tensor:
        """Squeeze and remember: the softmax weights ``(B, P)`` (fp32) for input ``x``."""
        squeezed = self.squeeze(x)
        if tuple(squeezed.shape[-2:]) != self.memory_size:
            squeezed = F.adaptive_avg_pool2d(squeezed, self.memory_size)
        return self.remember(squeezed.flatten(1))

    def recall(self, weights: Tensor, size: Optional[Tuple[int, int]] = None,
               dtype: Optional[torch.dtype] = None) -> Tensor:
        """``sum_i weights[:, i] * M_i``, shape ``(B, C, *size)`` (memory size by default)."""
        memory = self.memory if dtype is None else self.memory.to(dtype)
        recalled = torch.mm(weights.to(memory.dtype), memory.flatten(1))
        recalled = recalled.view(-1, *memory.shape[1:])
        if size is not None and tuple(size) != self.memory_size:
            recalled = F.interpolate(recalled, size=size, mode='bilinear', align_corners=False)
        return recalled

    def forward(self, x: Tensor, return_weights: bool = False
                ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        self._check_input(x)
        if not self.enabled:
            return (x, self.memory_weights(x)) if return_weights else x
        weights = self.memory_weights(x)
        size = tuple(x.shape[-2:])
        if size != self.memory_size and self.training:
            warnings.warn(f'SRBlock: training on {size[0]}x{size[1]} features but the memory '
                          f'is {self.memory_size[0]}x{self.memory_size[1]}; the memory is '
                          'resampled. Set memory_size (or sr_cfg input_size) to the training '
                          'feature size.', stacklevel=2)
        if (size == self.memory_size and x.is_contiguous()
                and not autocast_enabled(x.device.type)):
            # Fast path, one fused kernel: out = x + weights @ M  (no intermediate copy).
            if weights.dtype != x.dtype:
                weights = weights.to(x.dtype)
            features = self.in_channels * size[0] * size[1]
            out = torch.addmm(x.view(x.shape[0], features), weights,
                              self.memory.view(self.num_memory_blocks, features)).view(x.shape)
        else:
            out = x + self.recall(weights, size, dtype=x.dtype)
        return (out, weights) if return_weights else out
