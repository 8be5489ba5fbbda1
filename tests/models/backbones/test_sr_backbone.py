"""The generic plug-in mixin on plain torch modules (no mmseg / mmpretrain needed)."""
import pytest
import torch
from torch import nn

from mmsr.models.backbones import PluggedMixin
from mmsr.models.backbones.sr_backbone import BackboneStages, conv_output_size


class TwoStageNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1)),
                                     nn.Sequential(nn.Conv2d(4, 8, 3, 2, 1))])

    def forward(self, x):
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs


class TwoStages(BackboneStages):
    """A stage adapter for ``TwoStageNet``: the interface every family implements."""

    def stage_modules(self):
        return list(self.stages)

    def stage_channels(self, index):
        return self.stages[index][0].out_channels

    def stage_output_size(self, input_size, index):
        return tuple(conv_output_size(n, [2] * (index + 1)) for n in input_size)

    def append_to_stage(self, index, name, module):
        self.stages[index].add_module(name, module)


class PluggedTwoStageNet(PluggedMixin, TwoStages, TwoStageNet):
    pass


class NoStages(PluggedMixin, nn.Module):

    def stage_modules(self):
        return []


def test_mixin_on_a_plain_torch_network():
    net = PluggedTwoStageNet(sr_cfg=dict(after_stage=2, num_memory_blocks=2, hidden_channels=3,
                                         input_size=(15, 9)))
    assert net.stages[1].sr_block.memory.shape == (2, 8, 4, 3)
    assert [name for name, _ in net.plug_ins()] == ['stages.1.sr_block']
    with torch.no_grad():
        net.stages[1].sr_block.memory.fill_(1.0)
        plain = TwoStageNet()
        plain.load_state_dict({k: v for k, v in net.state_dict().items()
                               if '.sr_block.' not in k})
        x = torch.randn(1, 3, 15, 9)
        torch.testing.assert_close(net(x)[1], plain(x)[1] + 1.0)  # weights sum to one
        torch.testing.assert_close(net(x)[0], plain(x)[0])


def test_sr_on_a_backbone_without_stages_is_a_clear_error():
    with pytest.raises(ValueError, match='has no stages, so sr_cfg.after_stage cannot be used'):
        NoStages(sr_cfg=dict(after_stage=1, memory_size=2))


def test_stage_the_backbone_lacks():
    with pytest.raises(ValueError, match='after_stage=3 is not a stage'):
        PluggedTwoStageNet(sr_cfg=dict(after_stage=3, input_size=(8, 8)))


@pytest.mark.parametrize('size,strides,expected', [(224, [2, 2, 2, 2], 14), (225, [2, 2], 57),
                                                    (7, [2], 4), (9, [1, 1], 9)])
def test_conv_output_size(size, strides, expected):
    assert conv_output_size(size, strides) == expected
