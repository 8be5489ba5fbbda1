"""DropBlock (Ghiasi et al., 2018): structured dropout of contiguous square regions."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor, nn

from ...errors import ConfigError


@MODELS.register_module()
class DropBlock(nn.Module):
    """Drops ``block_size x block_size`` regions of each channel during training.

    ``gamma`` is chosen so that about ``p`` of the activations are dropped; kept activations
    are rescaled by ``numel / kept`` as in the paper. An identity in eval mode or for ``p=0``.

    Shapes: ``(B, C, H, W) -> (B, C, H, W)``.
    """

    def __init__(self, p: float = 0.1, block_size: int = 7) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ConfigError(f'DropBlock: p must be in [0, 1), got {p!r}.')
        if not isinstance(block_size, int) or block_size < 1:
            raise ConfigError(f'DropBlock: block_size must be an int >= 1, got {block_size!r}.')
        self.p = p
        self.block_size = block_size

    def extra_repr(self) -> str:
        return f'p={self.p}, block_size={self.block_size}'

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0 or x.numel() == 0:
            return x
        height, width = x.shape[-2:]
        block = min(self.block_size, height, width)
        valid = (height - block + 1) * (width - block + 1)
        gamma = self.p * height * width / (block ** 2 * valid)
        seeds = torch.rand(x.shape, device=x.device, dtype=torch.float32) < gamma
        mask = F.max_pool2d(seeds.to(x.dtype), kernel_size=block, stride=1, padding=block // 2)
        mask = 1.0 - mask[..., :height, :width]
        scale = mask.numel() / mask.sum().clamp(min=1.0)
        return x * mask * scale


if 'Dropout2d' not in MODELS.module_dict:  # the paper's D2D, for stage_dropout_cfg
    MODELS.register_module(module=nn.Dropout2d)
