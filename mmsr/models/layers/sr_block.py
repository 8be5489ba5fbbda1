"""The Squeeze-and-Remember (SR) block (Cakaj, Mehnert and Yang, ICMLA 2024).

    z = flatten(conv1x1(X))                        squeeze   (B, C, H, W) -> (B, H*W)
    w = softmax(FC2(act(FC1(z))))                  remember  (B, H*W) -> (B, P)
    Y = X + sum_i w_i M_i                          add       M: (P, C, H, W), learned

Needs only torch and mmengine (mmcv's activation registry is used when mmcv is installed), so
it can be used, timed and exported as plain PyTorch.
"""
from __future__ import annotations

import warnings
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from ...errors import CheckpointMismatchError, ConfigError, InputError
from ...torch_features import autocast_enabled
from ...utils.size import SizeLike, to_size
from .sr_recall_kernel import kernel_applies, recall_add


def build_activation(act_cfg: Optional[dict]) -> Optional[nn.Module]:
    """mmcv's ``build_activation_layer`` (or, without mmcv, the ``torch.nn`` class of that
    name); ``None`` for the identity, so that no layer is left that forward never calls."""
    if act_cfg is None:
        return None
    try:
        from mmcv.cnn import build_activation_layer
        return build_activation_layer(dict(act_cfg))
    except ImportError:
        cfg = dict(act_cfg)
        layer = getattr(nn, str(cfg.pop('type', None)), None)
        if isinstance(layer, type) and issubclass(layer, nn.Module):
            return layer(**cfg)
    except KeyError:
        pass
    raise ConfigError(f'act_cfg: unknown activation {act_cfg!r}; use a registered activation '
                      "such as dict(type='ReLU'), or act_cfg=None for the identity.")


class SRSqueeze(nn.Conv2d):
    """Squeeze: ``Conv2d(C, 1, 1)`` with bias, ``(B, C, H, W) -> (B, 1, H, W)``.

    Fast path: a batched matrix-vector product ``(B, 1, C) @ (B, C, H*W)`` reading ``x`` in
    place; the CPU block takes 60% of its time with the convolution (``conv_forward``, the
    plain path; ``benchmark.py --plain-sr``). Same parameters, keys and FLOPs.
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__(in_channels, 1, kernel_size=1, bias=True)

    def conv_forward(self, x: Tensor) -> Tensor:
        return super().forward(x)

    def forward(self, x: Tensor) -> Tensor:
        if not x.is_contiguous():  # e.g. channels-last: the convolution reads it in place
            return self.conv_forward(x)
        batch, channels, height, width = x.shape
        weight = self.weight.view(1, 1, channels).expand(batch, -1, -1)  # dtypes: autocast's
        squeezed = torch.bmm(weight, x.view(batch, channels, height * width))
        return squeezed.view(batch, 1, height, width) + self.bias


class SRRemember(nn.Module):
    """Remember: ``(B, H*W) -> FC1 -> act -> FC2 -> softmax -> (B, P)``, the softmax in fp32
    (also under autocast; fp64 stays fp64)."""

    def __init__(self, in_features: int, hidden_channels: int, num_memory_blocks: int,
                 act_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_channels)
        self.act = build_activation(act_cfg)
        self.fc2 = nn.Linear(hidden_channels, num_memory_blocks)

    def forward(self, z: Tensor) -> Tensor:
        hidden = self.fc1(z)
        if self.act is not None:
            hidden = self.act(hidden)
        logits = self.fc2(hidden)
        # A dtype comparison, not torch.promote_types (which torch.compile 2.1 cannot trace).
        dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
        return torch.softmax(logits, dim=1, dtype=dtype)


@MODELS.register_module()
class SRBlock(BaseModule):
    """Squeeze-and-Remember block: ``Y = X + sum_i softmax(FCN(conv1x1(X)))_i * M_i``.

    A new block is an exact identity (``M = 0``). Convolution and FC layers start from torch's
    default initialisation, which is the paper's ``U(-sqrt(k), sqrt(k))``, ``k = 1 / fan_in``;
    :meth:`init_weights` restores it after an enclosing ``init_cfg`` (Kaiming, ...) has run.

    **Other input sizes** (whole-image or multi-scale testing): the squeezed map is area-pooled
    to ``memory_size`` before the FCN, and the recalled memory is resized bilinearly
    (``align_corners=False``) to the input size before the addition. At the memory size
    neither runs: the block is exactly the paper's.

    Args:
        in_channels: ``C``, channels of the input feature map.
        memory_size: ``(H, W)`` of the memory (the training feature size), or one int.
        num_memory_blocks: ``P``. Default 2.
        hidden_channels: ``h`` (paper: 8 on CIFAR, 16 or 32 on ImageNet). Default 16.
        act_cfg: activation between the FC layers. Default ``None``, the identity: the paper's
            first layer "linearly transforms the feature map".
        enabled: ``False`` returns the input unchanged (the paper's ablation, "removing the SR
            block"); the parameters stay, so a trained checkpoint still loads.
        triton_recall: run the recall and addition as one Triton kernel on CUDA at inference
            (:mod:`~mmsr.models.layers.sr_recall_kernel`). Default ``False``: an opt-in.
        init_cfg: mmengine init config; normally ``None``.

    Shapes: ``(B, C, H, W) -> (B, C, H, W)``; with ``return_weights=True`` also the memory
    weights ``(B, P)`` (fp32).

    ``fast_paths = False`` (class or block) runs the plain path only: the squeeze as a
    convolution and ``x + recall(w)``; tests and ``benchmark.py --plain-sr`` compare the two.
    The fast paths: the squeeze as a batched product; the recall and addition as one fused
    ``addmm`` (fp32/fp64 without autocast), or, with ``triton_recall=True``, one Triton kernel
    for CUDA inference. Training keeps torch's autograd.
    """

    fast_paths: bool = True

    def __init__(self, in_channels: int, memory_size: SizeLike, num_memory_blocks: int = 2,
                 hidden_channels: int = 16, act_cfg: Optional[dict] = None,
                 enabled: bool = True, triton_recall: bool = False,
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
        self.enabled = bool(enabled)
        self.triton_recall = bool(triton_recall)
        height, width = self.memory_size
        self.squeeze = SRSqueeze(in_channels)
        self.remember = SRRemember(height * width, hidden_channels, num_memory_blocks, act_cfg)
        self.memory = nn.Parameter(torch.zeros(num_memory_blocks, in_channels, height, width))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The paper's initialisation; the memory is zero, so the block is an identity."""
        for layer in (self.squeeze, self.remember.fc1, self.remember.fc2):
            layer.reset_parameters()
        nn.init.zeros_(self.memory)

    def init_weights(self) -> None:
        super().init_weights()
        if not self.init_cfg:  # an enclosing init_cfg has run on our layers: undo it
            self.reset_parameters()

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, memory_size={self.memory_size}, '
                f'num_memory_blocks={self.num_memory_blocks}, '
                f'hidden_channels={self.hidden_channels}'
                + ('' if self.enabled else ', enabled=False')
                + (', triton_recall=True' if self.triton_recall else ''))

    # --- the paper's three steps ---------------------------------------------------------
    def memory_weights(self, x: Tensor) -> Tensor:
        """Squeeze and remember: the softmax weights ``(B, P)`` (fp32) for input ``x``."""
        squeezed = self.squeeze(x) if self.fast_paths else self.squeeze.conv_forward(x)
        if tuple(squeezed.shape[-2:]) != self.memory_size:  # other sizes: pool to the memory's
            squeezed = F.adaptive_avg_pool2d(squeezed, self.memory_size)
        return self.remember(squeezed.flatten(1))

    def recall(self, weights: Tensor, size: Optional[Tuple[int, int]] = None,
               dtype: Optional[torch.dtype] = None) -> Tensor:
        """``sum_i weights[:, i] * M_i``, ``(B, C, *size)`` (default: the memory size)."""
        memory = self.memory if dtype is None else self.memory.to(dtype)
        recalled = torch.mm(weights.to(memory.dtype), memory.flatten(1))
        recalled = recalled.view(-1, *memory.shape[1:])
        if size is not None and tuple(size) != self.memory_size:  # other sizes: resize
            recalled = F.interpolate(recalled, size=size, mode='bilinear', align_corners=False)
        return recalled

    def forward(self, x: Tensor, return_weights: bool = False
                ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        self._check_input(x)
        weights = self.memory_weights(x)
        if not self.enabled:
            return (x, weights) if return_weights else x
        size = tuple(x.shape[-2:])
        if size != self.memory_size and self.training:
            warnings.warn(f'SRBlock: training on {size[0]}x{size[1]} features but the memory '
                          f'is {self.memory_size[0]}x{self.memory_size[1]}; the memory is '
                          'resampled. Set memory_size (or sr_cfg input_size) to the training '
                          'feature size.', stacklevel=2)
        fusable = self.fast_paths and size == self.memory_size and x.is_contiguous()
        if fusable and self.triton_recall and kernel_applies(x, self.memory):
            # Fast path (CUDA inference): recall and addition in one Triton kernel that reads
            # x and M once and writes the output once (sr_recall_kernel.py).
            out = recall_add(x, weights, self.memory)
        elif fusable and not autocast_enabled(x.device.type):
            # Fast path: the recall and the addition as one fused addmm,
            # x.view(B, C*H*W) + w @ M.view(P, C*H*W), without the recalled map in between.
            memory = self.memory.flatten(1)
            out = torch.addmm(x.view(-1, memory.shape[1]), weights.to(x.dtype), memory)
            out = out.view(x.shape)
        else:
            out = x + self.recall(weights, size, dtype=x.dtype)
        return (out, weights) if return_weights else out

    # --- errors that say what to change --------------------------------------------------
    def _check_input(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or x.dim() != 4:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise InputError(f'SRBlock expects a 4-D tensor (B, C, H, W), got {shape}.')
        if x.shape[1] != self.in_channels:
            raise InputError(
                f'SRBlock was built for in_channels={self.in_channels} but the input has '
                f'{x.shape[1]} channels (shape {tuple(x.shape)}): set in_channels (or the SR '
                'stage) to match the feature map it follows.')
        if x.dtype != self.memory.dtype and not autocast_enabled(x.device.type):
            raise InputError(
                f'SRBlock\'s parameters are {self.memory.dtype} but the input is {x.dtype}: '
                f'convert the block with the rest of the model (model.to({x.dtype})), or the '
                'input, or run under torch.autocast.')

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        """Refuse a checkpoint saved with other SR settings, naming them (mmengine's non-strict
        loading would otherwise skip the mismatched tensors silently)."""
        saved = state_dict.get(prefix + 'memory')
        hidden = state_dict.get(prefix + 'remember.fc2.weight')
        differs = []
        if saved is not None and saved.dim() == 4:
            differs += [f'{setting}: checkpoint {theirs} vs model {ours}'
                        for setting, theirs, ours in (
                            ('num_memory_blocks (P)', saved.shape[0], self.num_memory_blocks),
                            ('in_channels (C)', saved.shape[1], self.in_channels),
                            ('memory_size', tuple(saved.shape[2:]), self.memory_size))
                        if theirs != ours]
        if hidden is not None and hidden.dim() == 2 and hidden.shape[1] != self.hidden_channels:
            differs.append(f'hidden_channels (h): checkpoint {hidden.shape[1]} vs model '
                           f'{self.hidden_channels}')
        if differs:
            raise CheckpointMismatchError(
                f'SR block {prefix or "(root)"}: the checkpoint was saved with other SR settings '
                f'({"; ".join(differs)}). Use the checkpoint\'s sr_cfg; for another memory_size '
                'resample the memory to the new size (the repository\'s model converter '
                'resample_sr_memory does this).')
        super()._load_from_state_dict(state_dict, prefix, *args)
