"""mmsr's plugged backbones (SR models and the paper's baselines) in MMPretrain's registry,
and the parameter overheads the paper's formula gives."""
import pytest
import torch
from backbone_checks import (assert_exactly_upstream, assert_no_hooks_on_stages,
                             assert_sr_after_stage)
from mmengine.registry import DefaultScope
from mmpretrain.models.backbones import VGG, ResNet, ResNet_CIFAR, ResNetV1c, ResNetV1d, SEResNet
from mmpretrain.registry import MODELS as PRETRAIN_MODELS

from paper_formulas import paper_param_count

from mmsr.models.backbones.sr_backbone import residual_blocks

from mmsr.models.backbones.mmpretrain_backbones import (PluggedResNet, PluggedResNet_CIFAR,
                                                        PluggedResNetV1c, PluggedResNetV1d,
                                                        PluggedVGG)


def build(cfg):
    """Build from mmpretrain's registry whatever default scope an earlier test left."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return PRETRAIN_MODELS.build(cfg)


PAIRS = [(ResNet, PluggedResNet, dict(depth=18)), (ResNetV1c, PluggedResNetV1c, dict(depth=50)),
         (ResNetV1d, PluggedResNetV1d, dict(depth=34, out_indices=(2, 3))),
         (ResNet_CIFAR, PluggedResNet_CIFAR, dict(depth=18)),
         (VGG, PluggedVGG, dict(depth=11, norm_cfg=dict(type='BN'), out_indices=(2, 4)))]


def test_registered_in_mmpretrain():
    """One class per upstream class (``ResNetV1cSR`` is the second name of
    ``PluggedResNetV1c``); the old per-option class names are gone."""
    for name, cls in (('PluggedResNet', PluggedResNet), ('PluggedResNetV1c', PluggedResNetV1c),
                      ('ResNetV1cSR', PluggedResNetV1c), ('PluggedResNetV1d', PluggedResNetV1d),
                      ('PluggedResNet_CIFAR', PluggedResNet_CIFAR), ('PluggedVGG', PluggedVGG)):
        assert PRETRAIN_MODELS.get(name) is cls
    for old in ('ResNetSR', 'ResNetV1dSR', 'ResNet_CIFAR_SR', 'VGGSR', 'ResNetStageDropout',
                'ResNet_CIFAR_StageDropout', 'ResNet_CIFAR_Attention'):
        assert PRETRAIN_MODELS.get(old) is None, old
    assert PRETRAIN_MODELS.get('DropoutLinearClsHead').__module__.startswith('mmsr.models.')
    assert PRETRAIN_MODELS.get('SRBlock') is not None  # root registry reaches mmpretrain's


@pytest.mark.parametrize('upstream_cls,sr_cls,kwargs', PAIRS)
def test_without_sr_cfg_exactly_upstream(upstream_cls, sr_cls, kwargs):
    assert_exactly_upstream(upstream_cls, sr_cls, torch.randn(2, 3, 64, 64), **kwargs)


@pytest.mark.parametrize('upstream_cls,sr_cls,kwargs', PAIRS)
@pytest.mark.parametrize('stage', [2, 3, 4])
def test_sr_after_stage(upstream_cls, sr_cls, kwargs, stage):
    size = (64, 48)
    sr_cfg = dict(after_stage=stage, num_memory_blocks=3, hidden_channels=8, input_size=size)
    assert_sr_after_stage(upstream_cls, sr_cls, torch.randn(2, 3, *size), stage, sr_cfg,
                          **kwargs)


def test_vgg_stages_end_with_their_pool_and_stage5_exists():
    vgg = PluggedVGG(depth=16, norm_cfg=dict(type='BN'), sr_cfg=dict(after_stage=5,
                                                                      input_size=(32, 32)))
    assert vgg.features[-1].sr_block.memory.shape == (2, 512, 1, 1)
    vgg = PluggedVGG(depth=19, norm_cfg=dict(type='BN'), ceil_mode=True,
                     sr_cfg=dict(after_stage=2, input_size=(33, 33)))
    end = vgg.range_sub_modules[1][1] - 1
    assert vgg.features[end].sr_block.memory_size == (9, 9)
    with pytest.raises(ValueError, match=r'stages 1\.\.5'):
        PluggedVGG(depth=16, sr_cfg=dict(after_stage=6, memory_size=1))


def test_vgg_plug_ins_sit_with_the_stage_pool():
    """The stage's last item (its pool) becomes ``Sequential(pool, stage_dropout, sr_block)``:
    ``VGG.forward`` indexes ``features`` as before; upstream's keys are unchanged; sizes of
    later stages still count the (wrapped) pools."""
    vgg = PluggedVGG(depth=11, norm_cfg=dict(type='BN'), sr_cfg=dict(after_stage=3,
                                                                      input_size=(64, 64)),
                     stage_dropout_cfg=dict(type='Dropout2d', p=0.1, after_stages=(2, 3)))
    ends = [end - 1 for _, end in vgg.range_sub_modules]
    assert [n for n, _ in vgg.features[ends[2]].named_children()] == [
        'pool', 'stage_dropout', 'sr_block']
    assert [n for n, _ in vgg.features[ends[1]].named_children()] == ['pool', 'stage_dropout']
    assert 'features.%d.sr_block' % ends[2] in dict(vgg.named_modules())
    assert vgg.features[ends[2]].sr_block.memory_size == (8, 8)  # after the wrapped 2nd pool
    assert_no_hooks_on_stages(vgg)
    upstream = VGG(depth=11, norm_cfg=dict(type='BN'))
    assert [k for k in vgg.state_dict() if '.sr_block.' not in k] == list(upstream.state_dict())


def build_classifier(backbone, num_classes, in_channels, head='LinearClsHead', **head_kw):
    return build(dict(
        type='ImageClassifier', backbone=backbone, neck=dict(type='GlobalAveragePooling'),
        head=dict(type=head, num_classes=num_classes, in_channels=in_channels,
                  loss=dict(type='CrossEntropyLoss'), **head_kw)))


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def overhead_percent(backbone_type, depth, num_classes, in_channels, sr_cfg):
    base = build_classifier(dict(type=backbone_type, depth=depth), num_classes, in_channels)
    with_sr = build_classifier(dict(type=backbone_type, depth=depth, sr_cfg=sr_cfg),
                               num_classes, in_channels)
    return num_params(base), 100 * (num_params(with_sr) - num_params(base)) / num_params(base)


def test_imagenet_resnet50_overheads_are_the_papers():
    """The paper's text: on ImageNet the block adds "about 1.59% to 7.87%" (P=2 / P=10, after
    ResNet-50's layer3: 1024 channels, 14x14 at 224x224, h=16)."""
    for P, printed in ((2, 1.59), (10, 7.87)):
        base, percent = overhead_percent('PluggedResNet', 50, 1000, 2048, dict(
            after_stage=3, num_memory_blocks=P, hidden_channels=16, input_size=(224, 224)))
        assert base == 25_557_032  # ResNet-50's published parameter count
        assert percent == pytest.approx(100 * paper_param_count(1024, 14, 14, 16, P) / base)
        assert round(percent, 2) == printed


@pytest.mark.parametrize('depth,stage,P', [(18, 3, 6), (50, 3, 6), (50, 4, 4), (34, 4, 2)])
def test_cifar100_overheads_are_the_formulas(depth, stage, P):
    """On 32x32 inputs layer3 gives 8x8 maps and layer4 4x4; the classifier gains exactly one
    block's formula count (h=8)."""
    channels = {3: 256, 4: 512}[stage] * (4 if depth >= 50 else 1)
    size = {3: 8, 4: 4}[stage]
    in_channels = 512 if depth < 50 else 2048
    base, percent = overhead_percent('PluggedResNet_CIFAR', depth, 100, in_channels, dict(
        after_stage=stage, num_memory_blocks=P, hidden_channels=8, input_size=(32, 32)))
    assert percent == pytest.approx(100 * paper_param_count(channels, size, size, 8, P) / base)


@pytest.mark.parametrize('attention', ['SELayer', 'CBAM'])
@pytest.mark.parametrize('depth', [18, 50])
def test_attention_option(attention, depth):
    backbone = PluggedResNet_CIFAR(depth=depth, attention_cfg=dict(type=attention, ratio=16),
                                   sr_cfg=dict(after_stage=3, num_memory_blocks=2,
                                               hidden_channels=8, input_size=(32, 32)))
    blocks = [b for layer in backbone.stage_modules() for b in residual_blocks(layer)]
    assert all(hasattr(b, 'attention') for b in blocks)
    assert any(k.startswith('layer1.0.attention.') for k in backbone.state_dict())
    backbone.init_weights()
    x = torch.randn(2, 3, 32, 32)
    backbone.train()
    out = backbone(x)[-1]
    out.mean().backward()
    assert blocks[0].attention.state_dict() and all(
        p.grad is not None for p in blocks[0].attention.parameters())
    # the attention really runs inside the residual branch
    calls = []
    blocks[0].attention.register_forward_hook(lambda *a: calls.append(1))
    backbone(x)
    assert calls == [1]
    with pytest.raises(ValueError, match='attention_cfg: ECA is not in the mmpretrain::model registry'):
        PluggedResNet_CIFAR(depth=18, attention_cfg=dict(type='ECA'))


@pytest.mark.parametrize('depth', [50, 101])
def test_se_placement_equals_mmpretrain_seresnet(depth):
    """Our SE (attention_cfg) sits where mmpretrain's SEResNet puts it: with SEResNet's block
    weights, every bottleneck of a stage computes exactly what SEResNet's computes."""
    torch.manual_seed(0)
    reference = SEResNet(depth=depth)
    ours = PluggedResNet_CIFAR(depth=depth, attention_cfg=dict(type='SELayer', ratio=16))
    reference.eval(), ours.eval()
    for name in ('layer1', 'layer2'):
        theirs = {k.replace('se_layer.', 'attention.'): v
                  for k, v in getattr(reference, name).state_dict().items()}
        assert set(theirs) == set(getattr(ours, name).state_dict())
        getattr(ours, name).load_state_dict(theirs)
    x = torch.randn(2, 64, 16, 16)
    with torch.no_grad():
        assert torch.equal(ours.layer2(ours.layer1(x)), reference.layer2(reference.layer1(x)))
        # and the attention is not a no-op there
        without = ResNet_CIFAR(depth=depth)
        without.eval()
        without.layer1.load_state_dict(ours.layer1.state_dict(), strict=False)
        assert not torch.allclose(without.layer1(x), ours.layer1(x))


@pytest.mark.parametrize('scope', ['mmengine', 'mmseg', 'mmpretrain'])
def test_attention_builds_whatever_the_default_scope(scope):
    """SELayer is in mmpretrain's registry only; an earlier Runner of another codebase leaves
    its default scope behind."""
    with DefaultScope.overwrite_default_scope(scope):
        model = PluggedResNet_CIFAR(depth=18, attention_cfg=dict(type='SELayer', ratio=16))
    assert type(model.layer1[0].attention).__name__ == 'SELayer'


def test_baselines_are_the_same_classes_without_sr():
    """The paper's baselines (D2D / DB, SE / CBAM) are the plugged classes without sr_cfg: no
    SR block anywhere, and their regulariser where the SR models have it."""
    from mmsr.analysis import sr_blocks
    for cls, kwargs, where in (
            (PluggedResNet_CIFAR, dict(stage_dropout_cfg=dict(
                type='Dropout2d', p=0.1, after_stages=(3, 4))), 'layer4.stage_dropout'),
            (PluggedResNet, dict(stage_dropout_cfg=dict(
                type='DropBlock', p=0.1, block_size=3, after_stages=(3, ))),
             'layer3.stage_dropout'),
            (PluggedResNet_CIFAR, dict(attention_cfg=dict(type='CBAM')), 'layer2.1.attention')):
        model = cls(depth=18, **kwargs)
        assert not sr_blocks(model) and model.sr_cfg is None
        assert where in dict(model.named_modules())


def test_init_weights_keeps_sr_init():
    """mmpretrain's ResLayer is a plain nn.Sequential, which mmengine's init recursion skips:
    the backbone's Kaiming init_cfg reaches the block's squeeze, and the block's own init must
    run after it."""
    backbone = PluggedResNetV1c(depth=50, sr_cfg=dict(after_stage=3, num_memory_blocks=2,
                                                      hidden_channels=16, input_size=(64, 64)))
    block = backbone.layer3.sr_block
    with torch.no_grad():
        block.squeeze.weight.fill_(5.0)
        block.memory.fill_(1.0)
    backbone.init_weights()
    assert block.squeeze.weight.abs().max() <= 1024**-0.5
    assert not block.memory.any()


def test_pretrained_init_cfg_loads_the_sr_block(tmp_path):
    sr_cfg = dict(after_stage=2, num_memory_blocks=2, hidden_channels=4, input_size=(32, 32))
    saved = PluggedResNet_CIFAR(depth=18, sr_cfg=sr_cfg)
    with torch.no_grad():
        saved.layer2.sr_block.memory.fill_(0.5)
    torch.save({'state_dict': saved.state_dict()}, tmp_path / 'sr.pth')
    again = PluggedResNet_CIFAR(depth=18, sr_cfg=sr_cfg, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'sr.pth')))
    again.init_weights()
    assert torch.all(again.layer2.sr_block.memory == 0.5)


@pytest.mark.parametrize('upstream_cls,cls,kwargs', PAIRS[:4])
def test_upstream_init_freeze_and_norm_eval_unchanged_by_plug_ins(upstream_cls, cls, kwargs):
    """Upstream's code that walks the stages (init_weights with zero_init_residual,
    _freeze_stages, norm_eval) does to the residual blocks exactly what it does upstream."""
    kwargs = dict(kwargs, frozen_stages=1, norm_eval=True)
    upstream = upstream_cls(**kwargs)
    ours = cls(**kwargs, stage_dropout_cfg=dict(type='Dropout2d', p=0.1, after_stages=(2, 4)),
               sr_cfg=dict(after_stage=4, memory_size=2))
    for model in (upstream, ours):
        torch.manual_seed(0)
        model.init_weights()
    state = ours.state_dict()
    for key, value in upstream.state_dict().items():
        assert torch.equal(state[key], value), key
    upstream.train(), ours.train()
    flags = {n: (m.training, [p.requires_grad for p in m.parameters(recurse=False)])
             for n, m in ours.named_modules()}
    assert {n: flags[n] for n, _ in upstream.named_modules()} == {
        n: (m.training, [p.requires_grad for p in m.parameters(recurse=False)])
        for n, m in upstream.named_modules()}
    assert ours.layer4.sr_block.training and ours.layer2.stage_dropout.training


def test_layer_decay_depth_of_a_plug_in_is_its_stages():
    backbone = PluggedResNet(depth=50, sr_cfg=dict(after_stage=3, memory_size=14))
    last = 'backbone.layer3.5.conv3.weight'  # the last of layer3's 6 bottlenecks
    assert (backbone.get_layer_depth('backbone.layer3.sr_block.memory', 'backbone.')
            == backbone.get_layer_depth(last, 'backbone.'))


def test_dropout_linear_head():
    head = build(dict(type='DropoutLinearClsHead', num_classes=5, in_channels=16,
                             dropout_rate=0.5))
    feats = (torch.randn(4, 16), )
    head.eval()
    reference = head.fc(feats[0])
    assert torch.equal(head(feats), reference)
    head.train()
    torch.manual_seed(0)
    dropped = head.pre_logits(feats)
    assert (dropped == 0).float().mean() > 0.2
    assert torch.allclose(dropped[dropped != 0], 2 * feats[0][dropped != 0])
    with pytest.raises(ValueError, match='dropout_rate must be in'):
        build(dict(type='DropoutLinearClsHead', num_classes=5, in_channels=16,
                          dropout_rate=1.0))


def test_classifier_trains_a_step_with_sr_and_regularisers():
    model = build_classifier(dict(type='PluggedResNet_CIFAR', depth=18, sr_cfg=dict(
        after_stage=3, num_memory_blocks=6, hidden_channels=8, input_size=(32, 32)),
        stage_dropout_cfg=dict(type='Dropout2d', p=0.1, after_stages=(3, 4))), 10, 512,
        head='DropoutLinearClsHead', dropout_rate=0.3)
    model.init_weights()
    from mmpretrain.structures import DataSample
    inputs = torch.randn(4, 3, 32, 32)
    samples = [DataSample().set_gt_label(i % 10) for i in range(4)]
    losses = model(inputs, samples, mode='loss')
    losses['loss'].backward()
    assert model.backbone.layer3.sr_block.memory.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        preds = model(inputs, samples, mode='predict')
    assert preds[0].pred_score.shape == (10, )
