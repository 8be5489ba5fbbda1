"""DropBlock, stage dropout and CBAM: the paper's regularisers and attention baselines."""
import pytest
import torch
from torch import nn

from mmengine.registry import MODELS

from mmsr.models.layers import CBAM, DropBlock


def test_dropblock_identity_in_eval_and_at_zero():
    x = torch.randn(2, 4, 16, 16)
    assert torch.equal(DropBlock(0.3, 5).eval()(x), x)
    assert torch.equal(DropBlock(0.0, 5).train()(x), x)


def test_dropblock_drops_square_blocks_at_about_rate_p():
    torch.manual_seed(0)
    block = DropBlock(p=0.2, block_size=5).train()
    x = torch.ones(8, 16, 32, 32)
    y = block(x)
    dropped = (y == 0).float().mean().item()
    assert 0.12 < dropped < 0.3
    torch.testing.assert_close(y.mean(), torch.tensor(1.0), atol=1e-4, rtol=0)  # rescaled
    # dropped regions are blocks, not single pixels: a dropped pixel has dropped neighbours
    zero = (y[0, 0] == 0)
    if zero.any():
        i, j = [int(v) for v in zero.nonzero()[0]]
        assert zero[i:i + 2, j:j + 2].sum() >= 2


def test_dropblock_handles_small_maps_and_bad_args():
    y = DropBlock(0.5, 7).train()(torch.ones(2, 3, 4, 4))  # block larger than the map
    assert y.shape == (2, 3, 4, 4)
    with pytest.raises(ValueError, match='p must be in'):
        DropBlock(1.0)
    with pytest.raises(ValueError, match='block_size must be'):
        DropBlock(0.1, 0)


def test_stage_dropouts_and_attention_build_from_the_root_registry():
    assert type(MODELS.build(dict(type='Dropout2d', p=0.1))) is nn.Dropout2d
    assert isinstance(MODELS.build(dict(type='DropBlock', p=0.1, block_size=3)), DropBlock)
    assert isinstance(MODELS.build(dict(type='CBAM', channels=16, mlp_bias=False)), CBAM)


def test_cbam_shapes_gradients_and_gating():
    cbam = CBAM(32, ratio=8)
    x = torch.randn(2, 32, 9, 11, requires_grad=True)
    y = cbam(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert all(p.grad is not None for p in cbam.parameters())
    # both gates are sigmoids in (0, 1): |y| <= |x| element-wise
    assert torch.all(y.detach().abs() <= x.detach().abs() + 1e-6)
    assert sum(p.numel() for p in cbam.channel_attention.parameters()) == \
        (32 * 4 + 4) + (4 * 32 + 32)
    assert cbam.spatial_attention.conv.weight.shape == (1, 2, 7, 7)
