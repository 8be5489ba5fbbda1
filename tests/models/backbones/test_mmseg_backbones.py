"""mmsr's plugged backbones in MMSegmentation's registry."""
import math

import pytest
import torch

from backbone_checks import (assert_exactly_upstream, assert_no_hooks_on_stages,
                             assert_same_outputs, assert_sr_after_stage, build_pair)
from mmseg.models.backbones import ResNet, ResNetV1c, ResNetV1d
from mmseg.registry import MODELS

from mmsr.models.backbones.mmseg_backbones import (PluggedResNet, PluggedResNetV1c,
                                                   PluggedResNetV1d)

PAIRS = [(ResNet, PluggedResNet), (ResNetV1c, PluggedResNetV1c), (ResNetV1d, PluggedResNetV1d)]
D8 = dict(depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True)


def test_registered_in_mmseg():
    from mmengine.registry import DefaultScope
    for name, cls in (('PluggedResNet', PluggedResNet), ('PluggedResNetV1c', PluggedResNetV1c),
                      ('ResNetV1cSR', PluggedResNetV1c), ('PluggedResNetV1d', PluggedResNetV1d)):
        assert MODELS.get(name) is cls
    for old in ('ResNetSR', 'ResNetV1dSR'):
        assert MODELS.get(old) is None
    with DefaultScope.overwrite_default_scope('mmseg'):
        backbone = MODELS.build(dict(type='ResNetV1cSR', depth=18, sr_cfg=dict(
            after_stage=2, num_memory_blocks=2, hidden_channels=4, memory_size=(4, 4))))
    assert type(backbone) is PluggedResNetV1c
    assert backbone.layer2.sr_block.memory.shape == (2, 128, 4, 4)


@pytest.mark.parametrize('upstream_cls,sr_cls', PAIRS)
@pytest.mark.parametrize('kwargs', [
    dict(depth=18),
    dict(depth=50, out_indices=(1, 3), frozen_stages=1, norm_eval=True),
    dict(D8, with_cp=True),
    dict(depth=50, style='caffe', strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
])
def test_without_sr_cfg_exactly_upstream(upstream_cls, sr_cls, kwargs):
    assert_exactly_upstream(upstream_cls, sr_cls, torch.randn(2, 3, 37, 45), **kwargs)


@pytest.mark.parametrize('upstream_cls,sr_cls', PAIRS)
@pytest.mark.parametrize('stage', [1, 2, 3, 4])
def test_sr_after_each_stage(upstream_cls, sr_cls, stage):
    x = torch.randn(2, 3, 64, 96)
    sr_cfg = dict(after_stage=stage, num_memory_blocks=3, hidden_channels=4,
                  input_size=(64, 96))
    assert_sr_after_stage(upstream_cls, sr_cls, x, stage, sr_cfg, **D8)


@pytest.mark.parametrize('size', [(97, 131), (33, 47), (64, 64), (20, 9)])
@pytest.mark.parametrize('stage', [1, 2, 3, 4])
def test_memory_size_derived_from_input_size(size, stage):
    """The derived memory size is the real feature size after the stage (d8, d32, avg-down,
    caffe style), odd sizes included."""
    for cls, kwargs in ((PluggedResNetV1c, D8), (PluggedResNet, dict(depth=18)),
                        (PluggedResNetV1d, dict(depth=50)),
                        (PluggedResNet, dict(depth=50, style='caffe'))):
        backbone = cls(**kwargs, sr_cfg=dict(after_stage=stage, input_size=size))
        stage_out = []
        backbone.stage_modules()[stage - 1].register_forward_hook(
            lambda m, i, o: stage_out.append(tuple(o.shape[-2:])))
        backbone.eval()
        with torch.no_grad():
            backbone(torch.randn(1, 3, *size))
        assert [backbone.stage_modules()[stage - 1].sr_block.memory_size] == stage_out


def test_cityscapes_d8_memory_is_64x128_after_layer2():
    backbone = PluggedResNetV1c(depth=50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                                sr_cfg=dict(after_stage=2, num_memory_blocks=2,
                                            hidden_channels=16, input_size=(512, 1024)))
    assert backbone.layer2.sr_block.memory.shape == (2, 512, 64, 128)


def test_whole_image_and_tta_sizes_run():
    """Trained at one crop size, run at other sizes (whole image, multi-scale, flip)."""
    backbone = PluggedResNetV1c(**D8, sr_cfg=dict(after_stage=2, num_memory_blocks=2,
                                                  hidden_channels=4, input_size=(32, 64)))
    backbone.eval()
    with torch.no_grad():
        backbone.layer2.sr_block.memory.normal_()
        for size in ((32, 64), (64, 128), (24, 48), (56, 112)):
            outs = backbone(torch.randn(1, 3, *size))
            assert outs[-1].shape[-2:] == (math.ceil(size[0] / 8), math.ceil(size[1] / 8))


def test_upstream_checkpoint_loads_with_only_sr_keys_missing():
    upstream = ResNetV1c(**D8)
    ours = PluggedResNetV1c(**D8, sr_cfg=dict(after_stage=2, num_memory_blocks=2,
                                              hidden_channels=4, input_size=(32, 32)))
    result = ours.load_state_dict(upstream.state_dict(), strict=False)
    assert not result.unexpected_keys
    assert sorted(result.missing_keys) == sorted(
        k for k in ours.state_dict() if k.startswith('layer2.sr_block.'))


def in_uniform_bound(block):
    bound = 1 / math.sqrt(block.in_channels)
    return bool(block.squeeze.weight.abs().max() <= bound)


def test_backbone_init_cfg_does_not_overwrite_sr_init():
    """mmseg ResNet's default init_cfg runs Kaiming on every Conv2d (the squeeze too)."""
    backbone = PluggedResNetV1c(**D8, sr_cfg=dict(after_stage=4, num_memory_blocks=2,
                                                  hidden_channels=4, memory_size=(4, 4)))
    with torch.no_grad():
        backbone.layer4.sr_block.squeeze.weight.fill_(10.0)
        backbone.layer4.sr_block.memory.fill_(1.0)
    backbone.init_weights()
    assert in_uniform_bound(backbone.layer4.sr_block)
    assert torch.count_nonzero(backbone.layer4.sr_block.memory) == 0


def test_pretrained_init_cfg(tmp_path):
    """Pretrained without SR keys: SR keeps its own init; with SR keys: they are loaded."""
    sr_cfg = dict(after_stage=3, num_memory_blocks=2, hidden_channels=4, memory_size=(4, 4))
    upstream = ResNetV1c(**D8)
    torch.save({'state_dict': upstream.state_dict()}, tmp_path / 'upstream.pth')
    ours = PluggedResNetV1c(**D8, sr_cfg=sr_cfg, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'upstream.pth')))
    ours.init_weights()
    assert torch.equal(ours.layer1[0].conv1.weight, upstream.layer1[0].conv1.weight)
    assert in_uniform_bound(ours.layer3.sr_block) and not ours.layer3.sr_block.memory.any()

    with torch.no_grad():
        ours.layer3.sr_block.memory.fill_(0.5)
    torch.save({'state_dict': ours.state_dict()}, tmp_path / 'sr.pth')
    again = PluggedResNetV1c(**D8, sr_cfg=sr_cfg, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'sr.pth')))
    again.init_weights()
    assert torch.all(again.layer3.sr_block.memory == 0.5)


def test_stage_dropout_training_only():
    backbone = PluggedResNetV1c(**D8, stage_dropout_cfg=dict(type='Dropout2d', p=0.5,
                                                             after_stages=(2, )))
    upstream, _ = build_pair(ResNetV1c, PluggedResNetV1c, **D8)
    backbone.load_state_dict(upstream.state_dict())
    x = torch.randn(2, 3, 32, 32)
    backbone.eval()
    assert_same_outputs(upstream, backbone, x)  # eval: no dropout
    backbone.train()
    upstream.train()
    with torch.no_grad():
        dropped = backbone.layer2(backbone.layer1(backbone.maxpool(backbone.stem(x))))
    per_channel = dropped.flatten(2).abs().sum(-1)
    assert (per_channel == 0).any()  # whole channels dropped
    assert list(backbone.state_dict()) == list(upstream.state_dict())


def test_dropblock_then_sr_on_the_same_stage():
    backbone = PluggedResNetV1c(**D8, sr_cfg=dict(after_stage=3, num_memory_blocks=2,
                                                  hidden_channels=4, input_size=(32, 32)),
                                stage_dropout_cfg=dict(type='DropBlock', p=0.2, block_size=3,
                                                       after_stages=(3, 4)))
    assert [name for name, _ in backbone.named_children() if 'dropout' in name] == []
    assert list(backbone.layer3.named_children())[-2:] == [
        ('stage_dropout', backbone.layer3.stage_dropout), ('sr_block', backbone.layer3.sr_block)]
    assert type(backbone.layer4.stage_dropout).__name__ == 'DropBlock'
    backbone.train()
    outs = backbone(torch.randn(2, 3, 32, 32))
    outs[-1].mean().backward()
    assert backbone.layer3.sr_block.memory.grad is not None


def test_dropout_comes_before_sr_on_the_same_stage():
    """The SR block sees the dropped map and adds its memory to it: in training, whole
    channels of the SR block's input are zero, and the block's output there is exactly the
    recalled memory; the next stage receives that output."""
    torch.manual_seed(0)
    backbone = PluggedResNetV1c(**D8, sr_cfg=dict(after_stage=2, num_memory_blocks=2,
                                                  hidden_channels=4, input_size=(32, 32)),
                                stage_dropout_cfg=dict(type='Dropout2d', p=0.5, after_stages=(2, )))
    with torch.no_grad():
        backbone.layer2.sr_block.memory.normal_()
    seen = {}
    backbone.layer2.sr_block.register_forward_hook(
        lambda m, args, out: seen.update(x=args[0], out=out))
    backbone.layer3.register_forward_pre_hook(lambda m, args: seen.update(next=args[0]))
    backbone.train()
    with torch.no_grad():
        backbone(torch.randn(2, 3, 32, 32))
        dropped = seen['x'].flatten(2).abs().sum(-1) == 0  # (B, C): channels dropped
        assert dropped.any() and not dropped.all()
        block = backbone.layer2.sr_block
        recalled = block.recall(block.memory_weights(seen['x']))
    assert torch.equal(seen['next'], seen['out'])
    torch.testing.assert_close(seen['out'][dropped], recalled[dropped])
    assert (seen['out'][dropped] != 0).all()  # memory added after the dropout, not dropped


def test_gradient_checkpointing_same_gradients():
    sr_cfg = dict(after_stage=2, num_memory_blocks=2, hidden_channels=4, input_size=(32, 32))
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        backbone = PluggedResNetV1c(**dict(D8, with_cp=with_cp), sr_cfg=sr_cfg)
        backbone.train()
        with torch.no_grad():
            backbone.layer2.sr_block.memory.normal_()
        torch.manual_seed(1)
        backbone(torch.randn(2, 3, 32, 32))[-1].square().mean().backward()
        grads.append(backbone.layer2.sr_block.squeeze.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_deepcopy_copies_the_sr_block():
    import copy
    backbone = PluggedResNetV1c(**D8, sr_cfg=dict(after_stage=2, num_memory_blocks=2,
                                                  hidden_channels=4, input_size=(32, 32)))
    backbone.eval()
    clone = copy.deepcopy(backbone)
    with torch.no_grad():
        clone.layer2.sr_block.memory.normal_()
        x = torch.randn(1, 3, 32, 32)
        assert not torch.equal(clone(x)[-1], backbone(x)[-1])


@pytest.mark.parametrize('sr_cfg,message', [
    (dict(after_stage=5, memory_size=4), r'after_stage=5 is not a stage .* stages 1\.\.4'),
    (dict(after_stage=0, memory_size=4), 'after_stage=0 is not a stage'),
    (dict(after_stage='layer3', memory_size=4), "after_stage='layer3' is not a stage"),
    (dict(memory_size=4), 'needs after_stage=M'),
    (dict(after_stage=2), 'exactly one of memory_size'),
    (dict(after_stage=2, memory_size=4, input_size=32), 'exactly one of memory_size'),
    (dict(after_stage=2, memory_size=4, num_memory_blocks=0), 'num_memory_blocks must be'),
    (dict(after_stage=2, memory_size=4, hidden_channels=0), 'hidden_channels must be'),
    (dict(after_stage=2, memory_size=(0, 4)), 'memory_size must be a positive'),
    (dict(after_stage=2, input_size=(-1, 4)), 'input_size must be a positive'),
    (dict(after_stage=2, memory_size=4, memory_blocks=3), 'unknown sr_cfg keys'),
])
def test_bad_sr_cfg(sr_cfg, message):
    with pytest.raises(ValueError, match=message):
        PluggedResNetV1c(depth=18, sr_cfg=sr_cfg)


def test_bad_stage_dropout_cfg():
    with pytest.raises(ValueError, match='needs after_stages'):
        PluggedResNet(depth=18, stage_dropout_cfg=dict(type='Dropout2d', p=0.1))
    with pytest.raises(ValueError, match='after_stages=7 is not a stage'):
        PluggedResNet(depth=18, stage_dropout_cfg=dict(type='Dropout2d', after_stages=(7, )))
    with pytest.raises(ValueError, match='stage_dropout_cfg: SpatialDropout is not in'):
        PluggedResNet(depth=18, stage_dropout_cfg=dict(type='SpatialDropout', after_stages=(2, )))


def test_wrong_input_channels_error_names_the_fix():
    backbone = PluggedResNet(depth=18, in_channels=3, sr_cfg=dict(after_stage=1, memory_size=4))
    with pytest.raises(ValueError, match='built for in_channels=64'):
        backbone.layer1.sr_block(torch.randn(1, 32, 4, 4))


def trained_d8_backbone():
    torch.manual_seed(0)
    backbone = PluggedResNetV1c(**D8, sr_cfg=dict(after_stage=2, num_memory_blocks=2,
                                                  hidden_channels=4, input_size=(32, 32)))
    with torch.no_grad():
        backbone.layer2.sr_block.memory.normal_()
    backbone.eval()
    return backbone


def test_backbone_channels_last_and_autocast():
    backbone = trained_d8_backbone()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        reference = backbone(x)
        channels_last = backbone.to(memory_format=torch.channels_last)(
            x.to(memory_format=torch.channels_last))
        for a, b in zip(reference, channels_last):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = backbone(x)
    assert all(torch.isfinite(t).all() for t in low)


def test_backbone_torch_compile_runs_the_sr_block():
    backbone = trained_d8_backbone()
    x = torch.randn(1, 3, 32, 32)
    compiled = torch.compile(backbone, backend='aot_eager', fullgraph=True)
    with torch.no_grad():
        for a, b in zip(compiled(x), backbone(x)):
            torch.testing.assert_close(a, b)


def test_mmengine_load_checkpoint_names_the_sr_setting_that_differs(tmp_path):
    from mmengine.runner import load_checkpoint
    saved = PluggedResNetV1c(**D8, sr_cfg=dict(after_stage=2, num_memory_blocks=3,
                                               hidden_channels=4, input_size=(32, 32)))
    torch.save({'state_dict': saved.state_dict()}, tmp_path / 'p3.pth')
    other = PluggedResNetV1c(**D8, sr_cfg=dict(after_stage=2, num_memory_blocks=2,
                                               hidden_channels=4, input_size=(32, 32)))
    with pytest.raises(ValueError, match=r'sr_block\..*num_memory_blocks \(P\): checkpoint 3'):
        load_checkpoint(other, str(tmp_path / 'p3.pth'), strict=False)


def test_plug_ins_are_children_of_their_stage():
    """``print(model)`` and ``named_modules`` show the SR block and the stage dropout inside
    the stage they follow (dropout first), not at the backbone's root; no hook runs them."""
    backbone = PluggedResNetV1c(depth=18, sr_cfg=dict(after_stage=4, num_memory_blocks=2,
                                                      hidden_channels=4, input_size=(64, 64)),
                                stage_dropout_cfg=dict(type='Dropout2d', p=0.1,
                                                       after_stages=(3, 4)))
    names = [name for name, _ in backbone.named_modules()]
    assert {'layer3.stage_dropout', 'layer4.stage_dropout', 'layer4.sr_block'} <= set(names)
    assert not [n for n in names if 'sr_block' in n or 'dropout' in n
                if not n.startswith(('layer3.', 'layer4.'))]
    assert [n for n, _ in backbone.layer4.named_children()][-2:] == ['stage_dropout', 'sr_block']
    assert '(stage_dropout): Dropout2d' in repr(backbone.layer4)
    assert '(sr_block): SRBlock' in repr(backbone.layer4)
    lines = repr(backbone).splitlines()  # print(model): indented under layer4
    (layer4, ), (sr_block, ) = ([i for i, line in enumerate(lines) if f'({name})' in line]
                                for name in ('layer4', 'sr_block'))
    indent = [len(lines[i]) - len(lines[i].lstrip()) for i in (layer4, sr_block)]
    assert sr_block > layer4 and indent[1] == indent[0] + 2
    assert_no_hooks_on_stages(backbone)
    assert backbone.stage_channels(3) == 512  # from the residual blocks, not the plug-ins


def test_frozen_stages_freeze_their_plug_ins_with_them():
    backbone = PluggedResNetV1c(depth=18, frozen_stages=3, sr_cfg=dict(
        after_stage=3, memory_size=4), stage_dropout_cfg=dict(type='Dropout2d', p=0.5,
                                                              after_stages=(3, 4)))
    backbone.train()
    assert not any(p.requires_grad for p in backbone.layer3.sr_block.parameters())
    assert not backbone.layer3.stage_dropout.training
    assert backbone.layer4.stage_dropout.training
    assert all(p.requires_grad for p in backbone.layer4.parameters())
