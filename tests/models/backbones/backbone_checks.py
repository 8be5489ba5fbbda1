"""Checks every SR backbone must pass, shared by the mmseg and mmpretrain backbone tests."""
import torch



def build_pair(upstream_cls, sr_cls, seed=0, sr_cfg=None, **kwargs):
    """An upstream backbone and ours with the same (upstream) weights."""
    torch.manual_seed(seed)
    upstream = upstream_cls(**kwargs)
    upstream.init_weights()
    ours = sr_cls(sr_cfg=sr_cfg, **kwargs)
    missing, unexpected = ours.load_state_dict(upstream.state_dict(), strict=False)
    assert not unexpected
    assert all(key.startswith('sr_block.') for key in missing)
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
    """With SR: keys are upstream's plus ``sr_block.*``; a new block is an identity; a trained
    block gives exactly upstream's outputs with the block applied to the output of ``stage``
    (1-based), whose size is the memory size. Returns (upstream, ours)."""
    upstream, ours = build_pair(upstream_cls, sr_cls, sr_cfg=sr_cfg, **kwargs)
    sr_keys = [k for k in ours.state_dict() if k not in upstream.state_dict()]
    assert sorted(sr_keys) == sorted(['sr_block.memory', 'sr_block.squeeze.weight',
                                      'sr_block.squeeze.bias', 'sr_block.remember.fc1.weight',
                                      'sr_block.remember.fc1.bias',
                                      'sr_block.remember.fc2.weight',
                                      'sr_block.remember.fc2.bias'])
    assert_same_outputs(upstream, ours, x)  # identity at init
    with torch.no_grad():
        ours.sr_block.memory.normal_()
    seen = []

    def apply_block(module, inputs, output):
        seen.append(tuple(output.shape[-2:]))
        return ours.sr_block(output)

    stage_module = type(ours).stage_modules(upstream)[stage - 1]
    handle = stage_module.register_forward_hook(apply_block)
    assert_same_outputs(upstream, ours, x)
    handle.remove()
    assert seen == [ours.sr_block.memory_size]
    return upstream, ours
