"""Checks every plugged backbone must pass, shared by the mmseg and mmpretrain backbone
tests."""
import torch

from mmsr.analysis import sr_blocks


def sr_block_name(backbone, stage):
    """Where the SR block after ``stage`` (1-based) lives: inside the stage."""
    if hasattr(backbone, 'res_layers'):  # ResNets: the ResLayer
        return f'layer{stage}.sr_block'
    return f'features.{backbone.range_sub_modules[stage - 1][1] - 1}.sr_block'  # VGG: the pool


def the_sr_block(backbone):
    (name, block), = sr_blocks(backbone)
    return name, block


def assert_no_hooks_on_stages(backbone):
    """The plug-ins run as children of their stage, not from hooks on it or in it."""
    for module in backbone.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks, module


def build_pair(upstream_cls, sr_cls, seed=0, sr_cfg=None, **kwargs):
    """An upstream backbone and ours with the same (upstream) weights."""
    torch.manual_seed(seed)
    upstream = upstream_cls(**kwargs)
    upstream.init_weights()
    ours = sr_cls(sr_cfg=sr_cfg, **kwargs)
    missing, unexpected = ours.load_state_dict(upstream.state_dict(), strict=False)
    assert not unexpected
    assert all('.sr_block.' in key for key in missing)
    upstream.eval()  # (mmpretrain's ResNet.train() returns None: no chaining)
    ours.eval()
    return upstream, ours


def assert_same_outputs(a, b, x):
    with torch.no_grad():
        out_a, out_b = a(x), b(x)
    assert len(out_a) == len(out_b)
    for ta, tb in zip(out_a, out_b):
        assert torch.equal(ta, tb)


def assert_exactly_upstream(upstream_cls, sr_cls, x, **kwargs):
    """sr_cfg=None: same state_dict keys (same order), same outputs, in eval and train mode."""
    upstream, ours = build_pair(upstream_cls, sr_cls, **kwargs)
    assert list(upstream.state_dict()) == list(ours.state_dict())
    assert_same_outputs(upstream, ours, x)
    upstream.train(), ours.train()
    torch.manual_seed(1)
    out_a = upstream(x)
    torch.manual_seed(1)
    out_b = ours(x)
    for ta, tb in zip(out_a, out_b):
        assert torch.equal(ta, tb)


def assert_sr_after_stage(upstream_cls, sr_cls, x, stage, sr_cfg, **kwargs):
    """With SR: keys are upstream's plus ``<stage>.sr_block.*``; a new block is an identity; a
    trained block gives exactly upstream's outputs with the block applied to the output of
    ``stage`` (1-based), whose size is the memory size; no hook runs it. Returns (upstream,
    ours)."""
    upstream, ours = build_pair(upstream_cls, sr_cls, sr_cfg=sr_cfg, **kwargs)
    name, block = the_sr_block(ours)
    assert name == sr_block_name(ours, stage)
    sr_keys = [k for k in ours.state_dict() if k not in upstream.state_dict()]
    assert sorted(sr_keys) == sorted(f'{name}.{key}' for key in [
        'memory', 'squeeze.weight', 'squeeze.bias', 'remember.fc1.weight', 'remember.fc1.bias',
        'remember.fc2.weight', 'remember.fc2.bias'])
    assert_no_hooks_on_stages(ours)
    assert_same_outputs(upstream, ours, x)  # identity at init
    with torch.no_grad():
        block.memory.normal_()
    seen = []

    def apply_block(module, inputs, output):
        seen.append(tuple(output.shape[-2:]))
        return block(output)

    stage_module = type(ours).stage_modules(upstream)[stage - 1]
    handle = stage_module.register_forward_hook(apply_block)
    assert_same_outputs(upstream, ours, x)
    handle.remove()
    assert seen == [block.memory_size]
    return upstream, ours
