"""CBAM (Woo et al., 2018): channel then spatial attention, for the paper's ResNet + CBAM rows."""
from __future__ import annotations

import torch
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn


class ChannelAttention(nn.Module):
    """``x * sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))``; the MLP is shared, ``C -> C/r -> C``,
    with biases unless ``bias=False``."""

    def __init__(self, channels: int, ratio: int = 16, bias: bool = True) -> None:
        super().__init__()
        hidden = max(channels // ratio, 1)
        self.mlp = nn.Sequential(nn.Conv2d(channels, hidden, 1, bias=bias), nn.ReLU(inplace=True),
                                 nn.Conv2d(hidden, channels, 1, bias=bias))

    def forward(self, x: Tensor) -> Tensor:
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        peak = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        return x * torch.sigmoid(avg + peak)


class SpatialAttention(nn.Module):
    """``x * sigmoid(conv7x7([mean_c(x), max_c(x)]))``."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


@MODELS.register_module()
class CBAM(BaseModule):
    """Convolutional Block Attention Module. Shapes: ``(B, C, H, W) -> (B, C, H, W)``.

    ``mlp_bias=False`` drops the biases of the channel-attention MLP (``C/r + C`` parameters
    per module), the variant whose parameter count the paper's Table II prints.
    """

    def __init__(self, channels: int, ratio: int = 16, kernel_size: int = 7,
                 mlp_bias: bool = True, init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.channel_attention = ChannelAttention(channels, ratio, mlp_bias)
        self.spatial_attention = SpatialAttention(kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.spatial_attention(self.channel_attention(x))
