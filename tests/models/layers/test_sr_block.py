"""SRBlock: the paper's equations, parameter formula, init, sizes, numerics and errors."""
import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import nn

from allowed_skips import HAS_ONNX, NO_CPU_FP16_AUTOCAST, NO_ONNX

from mmsr.models.layers import SRBlock
from paper_formulas import paper_param_count


def reference_forward(block, x):
    """The paper's block written out step by step (no fast path)."""
    squeezed = F.conv2d(x, block.squeeze.weight, block.squeeze.bias)
    if tuple(squeezed.shape[-2:]) != block.memory_size:
        squeezed = F.adaptive_avg_pool2d(squeezed, block.memory_size)
    z = squeezed.flatten(1)
    hidden = F.linear(z, block.remember.fc1.weight, block.remember.fc1.bias)
    if block.remember.act is not None:
        hidden = block.remember.act(hidden)
    w = torch.softmax(F.linear(hidden, block.remember.fc2.weight, block.remember.fc2.bias), 1)
    mbar = torch.einsum('bp,pchw->bchw', w, block.memory)
    if tuple(x.shape[-2:]) != block.memory_size:
        mbar = F.interpolate(mbar, size=x.shape[-2:], mode='bilinear', align_corners=False)
    return x + mbar, w


def trained_block(C=8, size=(5, 7), P=3, h=4, **kw):
    torch.manual_seed(0)
    block = SRBlock(C, size, P, h, **kw)
    with torch.no_grad():
        block.memory.normal_()
    return block


def test_registered_in_root_and_downstream_registries():
    assert MODELS.get('SRBlock') is SRBlock
    block = MODELS.build(dict(type='SRBlock', in_channels=4, memory_size=3))
    assert isinstance(block, SRBlock) and isinstance(block, BaseModule)


@pytest.mark.parametrize('C,H,W,h,P', [(1024, 14, 14, 16, 2), (1024, 14, 14, 16, 10),
                                       (256, 8, 8, 8, 6), (512, 64, 128, 16, 2), (3, 1, 1, 1, 1)])
def test_parameter_count_matches_spec_formula(C, H, W, h, P):
    block = SRBlock(C, (H, W), P, h)
    assert sum(p.numel() for p in block.parameters()) == paper_param_count(C, H, W, h, P)


@pytest.mark.parametrize('P, printed', [(2, 1.59), (10, 7.87)])
def test_imagenet_parameter_overhead_is_the_papers(P, printed):
    """The paper (Sec. III): on ImageNet the block adds "about 1.59% to 7.87%" of ResNet-50's
    parameters; its placement there (after ResNet-50's stage 3: C=1024, 14x14 at 224x224)
    and h=16 with P=2 / P=10 give exactly these, counted from the modules themselves."""
    from torchvision.models import resnet50
    base = sum(p.numel() for p in resnet50().parameters())
    block = SRBlock(1024, (14, 14), num_memory_blocks=P, hidden_channels=16)
    added = sum(p.numel() for p in block.parameters())
    assert round(100 * added / base, 2) == printed


def test_structure_is_the_papers():
    block = SRBlock(16, (4, 6), num_memory_blocks=5, hidden_channels=3)
    assert block.squeeze.weight.shape == (1, 16, 1, 1) and block.squeeze.bias.shape == (1, )
    assert block.remember.fc1.in_features == 24 and block.remember.fc1.out_features == 3
    assert block.remember.fc2.out_features == 5
    assert block.memory.shape == (5, 16, 4, 6)
    assert block.remember.act is None  # documented default: linear FCN (the identity)
    relu = SRBlock(16, 4, act_cfg=dict(type='ReLU'))
    assert isinstance(relu.remember.act, nn.ReLU)


def test_initialisation_is_uniform_fan_in_and_zero_memory():
    torch.manual_seed(1)
    block = SRBlock(64, (8, 8), 4, 16)
    for tensor, fan_in in ((block.squeeze.weight, 64), (block.squeeze.bias, 64),
                           (block.remember.fc1.weight, 64), (block.remember.fc1.bias, 64),
                           (block.remember.fc2.weight, 16), (block.remember.fc2.bias, 16)):
        bound = 1 / math.sqrt(fan_in)
        assert tensor.abs().max() <= bound
        if tensor.numel() >= 16:
            assert tensor.abs().max() > 0.8 * bound  # really spread over the range
    assert torch.count_nonzero(block.memory) == 0


def test_new_block_is_an_exact_identity():
    block = SRBlock(32, (6, 6), 3, 8)
    x = torch.randn(4, 32, 6, 6)
    assert torch.equal(block(x), x)
    other = torch.randn(2, 32, 12, 9)
    assert torch.equal(block.eval()(other), other)  # also at other sizes


def test_forward_matches_reference_and_weights_sum_to_one():
    block = trained_block()
    x = torch.randn(3, 8, 5, 7)
    y, w = block(x, return_weights=True)
    ref_y, ref_w = reference_forward(block, x)
    assert w.shape == (3, 3) and w.dtype == torch.float32
    torch.testing.assert_close(w.sum(1), torch.ones(3))
    torch.testing.assert_close(y, ref_y)
    torch.testing.assert_close(w, ref_w)
    assert torch.equal(block(x), y)  # return_weights does not change the output


@pytest.mark.parametrize('act_cfg', [None, dict(type='ReLU')])
@pytest.mark.parametrize('channels_last', [False, True])
def test_single_image_path_matches_reference(act_cfg, channels_last):
    # Batch 1 squeezes with one matrix product instead of a batched one: same block.
    block = trained_block(act_cfg=act_cfg).eval()
    x = torch.randn(1, 8, 5, 7)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    ref_y, ref_w = reference_forward(block, x)
    for context in (torch.enable_grad, torch.no_grad, torch.inference_mode):
        with context():
            y, w = block(x, return_weights=True)
        torch.testing.assert_close(y, ref_y)
        torch.testing.assert_close(w, ref_w)
        assert w.shape == (1, 3) and y.shape == x.shape


@pytest.mark.parametrize('batch', [1, 3])
def test_mmengine_flop_counter_sees_every_layer(batch):
    # The stock complexity tools (get_flops.py) trace the model: each SR layer is called and
    # its multiply-adds are counted, C*H*W + H*W*h + h*P + P*C*H*W.
    from mmengine.analysis import FlopAnalyzer
    block = trained_block().eval()
    with torch.no_grad():
        analyzer = FlopAnalyzer(block, (torch.randn(batch, 8, 5, 7), ))
        assert analyzer.total() == batch * (8 * 35 + 35 * 4 + 4 * 3 + 3 * 8 * 35)
        assert not analyzer.uncalled_modules()
        assert analyzer.by_module()['squeeze'] == batch * 8 * 35


def test_return_weights_needs_no_second_pass():
    block = trained_block()
    calls = []
    block.squeeze.register_forward_hook(lambda *a: calls.append(1))
    block(torch.randn(2, 8, 5, 7), return_weights=True)
    assert len(calls) == 1


def test_nonlinear_fcn_option():
    block = trained_block(act_cfg=dict(type='ReLU'))
    x = torch.randn(2, 8, 5, 7)
    torch.testing.assert_close(block(x), reference_forward(block, x)[0])
    with pytest.raises(ValueError, match="act_cfg: unknown activation .*'Swishy'"):
        SRBlock(8, 5, act_cfg=dict(type='Swishy'))


@pytest.mark.parametrize('size', [(10, 14), (3, 4), (5, 8), (17, 31), (1, 1)])
def test_other_input_sizes_pool_then_resample(size):
    block = trained_block().eval()
    x = torch.randn(2, 8, *size)
    y = block(x)
    assert y.shape == x.shape
    torch.testing.assert_close(y, reference_forward(block, x)[0])
    assert torch.equal(block(x), y)  # deterministic


def test_whole_image_and_multiscale_tta_sizes():
    """Cityscapes: memory learned on 512x1024 crops (d8: 64x128 features), tested on the whole
    1024x2048 image (128x256) and at mmseg's TTA ratios 0.5..1.75 (flipped too)."""
    torch.manual_seed(0)
    block = SRBlock(4, (64, 128), 2, 4).eval()
    with torch.no_grad():
        block.memory.normal_()
    for ratio in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0):
        size = (int(64 * ratio), int(128 * ratio))
        x = torch.randn(1, 4, *size)
        for flip in (False, True):
            xi = x.flip(-1) if flip else x
            y = block(xi)
            assert y.shape == xi.shape and torch.isfinite(y).all()
            torch.testing.assert_close(y, reference_forward(block, xi)[0])


def test_matching_size_is_exactly_the_paper_block_without_resampling(monkeypatch):
    block = trained_block()
    monkeypatch.setattr(F, 'interpolate', lambda *a, **k: pytest.fail('resampled'))
    monkeypatch.setattr(F, 'adaptive_avg_pool2d', lambda *a, **k: pytest.fail('pooled'))
    block(torch.randn(2, 8, 5, 7))


def test_training_at_a_size_other_than_memory_warns():
    block = trained_block().train()
    with pytest.warns(UserWarning, match='memory is 5x7'):
        block(torch.randn(1, 8, 6, 6))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        block.eval()(torch.randn(1, 8, 6, 6))  # inference at other sizes is the design


def test_gradients_reach_every_parameter():
    block = trained_block()
    x = torch.randn(2, 8, 5, 7, requires_grad=True)
    block(x).square().sum().backward()
    for name, p in block.named_parameters():
        assert p.grad is not None and torch.count_nonzero(p.grad) > 0, name
    assert x.grad is not None


def test_zero_memory_still_trains_all_parts_from_step_one():
    """With M = 0 only M gets a gradient at step 0 (the FCN's output is multiplied by M), and
    after one SGD step the rest learns too: the identity start does not dead-lock the block."""
    block = SRBlock(8, (5, 7), 3, 4)
    opt = torch.optim.SGD(block.parameters(), lr=0.1)
    x = torch.randn(4, 8, 5, 7)
    target = torch.randn(4, 8, 5, 7)
    for _ in range(2):
        opt.zero_grad()
        (block(x) - target).square().mean().backward()
        opt.step()
    assert torch.count_nonzero(block.remember.fc2.weight.grad) > 0


def test_empty_batch():
    block = trained_block()
    y, w = block(torch.randn(0, 8, 5, 7), return_weights=True)
    assert y.shape == (0, 8, 5, 7) and w.shape == (0, 3)
    assert block(torch.randn(0, 8, 9, 9)).shape == (0, 8, 9, 9)


def test_channels_last_is_kept_and_correct():
    block = trained_block()
    x = torch.randn(2, 8, 5, 7)
    y = block(x.to(memory_format=torch.channels_last))
    assert y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y, block(x))


def cpu_autocast_takes(dtype) -> bool:
    try:
        with torch.autocast('cpu', dtype=dtype):
            return True
    except RuntimeError as error:  # torch < 2.2 refuses float16 on the CPU
        assert dtype == torch.float16 and 'only support Bfloat16' in str(error), error
        return False


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_autocast_softmax_in_fp32_and_finite(dtype):
    if not cpu_autocast_takes(dtype):
        pytest.skip(NO_CPU_FP16_AUTOCAST)
    block = trained_block()
    x = torch.randn(2, 8, 5, 7) * 1e4  # extreme activations
    with torch.autocast('cpu', dtype=dtype):
        y, w = block(x, return_weights=True)
    assert w.dtype == torch.float32
    assert torch.isfinite(y).all() and torch.isfinite(w).all()
    y.float().sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in block.parameters())


def test_half_precision_model():
    block = trained_block().to(torch.bfloat16)
    x = torch.randn(2, 8, 5, 7, dtype=torch.bfloat16)
    y = block(x)
    assert y.dtype == torch.bfloat16
    reference = reference_forward(block.float(), x.float())[0]
    # bf16 keeps 8 significant bits: every value of y = x + sum_i w_i M_i is rounded to bf16,
    # and the sums inside (squeeze over C, FCN, recall over P) accumulate rounding errors of
    # the size of their largest terms. So the error is bounded by one bf16 step (eps) at the
    # output's largest magnitude, not relative to each (possibly near-zero) element.
    step = torch.finfo(torch.bfloat16).eps * reference.abs().max().item()
    torch.testing.assert_close(y.float(), reference, atol=step, rtol=0)


def test_gradcheck_double():
    block = trained_block().double()
    x = torch.randn(2, 8, 5, 7, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: block(t), (x, ), fast_mode=True)
    x2 = torch.randn(1, 8, 4, 9, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: block(t), (x2, ), fast_mode=True)


def test_torch_compile_matches_eager():
    block = trained_block().eval()
    x = torch.randn(2, 8, 5, 7)
    compiled = torch.compile(block, backend='inductor', fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), block(x))


@pytest.mark.skipif(not HAS_ONNX, reason=NO_ONNX)
@pytest.mark.parametrize('size', [(5, 7), (10, 14)])
def test_onnx_export_runs_in_onnxruntime(size, tmp_path):
    import onnx
    import onnxruntime as ort
    block = trained_block().eval()
    x = torch.randn(1, 8, *size)
    path = tmp_path / 'sr.onnx'
    torch.onnx.export(block, (x, ), str(path), dynamo=True, verbose=False)
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    (result, ) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    torch.testing.assert_close(torch.from_numpy(result), block(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('kwargs,message', [
    (dict(in_channels=0, memory_size=4), 'in_channels must be an int >= 1'),
    (dict(in_channels=4, memory_size=4, num_memory_blocks=0), 'num_memory_blocks must be'),
    (dict(in_channels=4, memory_size=4, hidden_channels=0), 'hidden_channels must be'),
    (dict(in_channels=4, memory_size=0), 'memory_size must be a positive'),
    (dict(in_channels=4, memory_size=(4, -2)), 'memory_size must be a positive'),
    (dict(in_channels=4, memory_size=(4, 4, 4)), 'memory_size must be a positive'),
    (dict(in_channels=4, memory_size=2.5), 'memory_size must be a positive'),
])
def test_bad_configuration(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SRBlock(**kwargs)


def test_bad_input():
    block = SRBlock(8, 4)
    with pytest.raises(ValueError, match='built for in_channels=8 but the input has 3'):
        block(torch.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match='expects a 4-D tensor'):
        block(torch.randn(8, 4, 4))
    with pytest.raises(ValueError, match='expects a 4-D tensor'):
        block(torch.randn(1, 1, 8, 4, 4))
    with pytest.raises(ValueError, match=r'parameters are torch.float32 but the input is '
                                         r'torch.float64: .*model.to\(torch.float64\)'):
        block(torch.randn(1, 8, 4, 4, dtype=torch.float64))
    with torch.autocast('cpu', dtype=torch.bfloat16):  # mixed dtypes are autocast's job
        assert block(torch.randn(1, 8, 4, 4).bfloat16()).shape == (1, 8, 4, 4)


def test_checkpoint_with_other_sr_settings_is_refused_by_name():
    saved = trained_block(C=8, size=(5, 7), P=3, h=4).state_dict()
    with pytest.raises(ValueError, match=r'num_memory_blocks \(P\): checkpoint 3 vs model 2'):
        SRBlock(8, (5, 7), 2, 4).load_state_dict(saved)
    with pytest.raises(ValueError, match=r'in_channels \(C\): checkpoint 8 vs model 16'):
        SRBlock(16, (5, 7), 3, 4).load_state_dict(saved)
    with pytest.raises(ValueError, match=r'hidden_channels \(h\): checkpoint 4 vs model 6'):
        SRBlock(8, (5, 7), 3, 6).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"memory_size: checkpoint \(5, 7\) vs model "
                       r"\(10, 14\).*resample the memory to the new size"):
        SRBlock(8, (10, 14), 3, 4).load_state_dict(saved)
    # also when a non-strict loader (mmengine's) would have skipped the mismatch silently
    with pytest.raises(ValueError, match='num_memory_blocks'):
        SRBlock(8, (5, 7), 2, 4).load_state_dict(saved, strict=False)


def test_autocast_keeps_the_identity_path_in_the_input_dtype():
    """Under autocast only the recalled memory is computed in low precision: the residual
    x + Mbar stays fp32, so a zero memory is still an exact identity."""
    block = SRBlock(8, (5, 7), 3, 4)
    x = torch.randn(2, 8, 5, 7)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = block(x)
    assert y.dtype == torch.float32 and torch.equal(y, x)


def test_disabled_block_returns_its_input_and_keeps_its_parameters():
    block = SRBlock(8, (4, 4), num_memory_blocks=3, hidden_channels=4)
    with torch.no_grad():
        block.memory.normal_()
    x = torch.randn(2, 8, 4, 4)
    state = block.state_dict()
    off = SRBlock(8, (4, 4), num_memory_blocks=3, hidden_channels=4, enabled=False)
    off.load_state_dict(state)  # a trained checkpoint loads into a switched-off block
    assert torch.equal(off(x), x) and not torch.equal(block(x), x)
    out, weights = off(x, return_weights=True)
    assert torch.equal(out, x) and torch.allclose(weights, block(x, return_weights=True)[1])
    assert 'enabled=False' in repr(off)
    block.enabled = False
    assert torch.equal(block(x), x)


@pytest.mark.parametrize('batch', [1, 3])
@pytest.mark.parametrize('size', [(5, 7), (9, 4)])
def test_fast_paths_equal_the_plain_path(batch, size, monkeypatch):
    """The squeeze as a matrix product and the fused addmm (taken for contiguous inputs; the
    addmm only at the memory's size) give what the plain path (the convolution, x + recall)
    gives, with and without autograd; fp32 to rounding, fp64 to 1e-12."""
    block = trained_block().eval()
    plain = trained_block().eval()
    plain.fast_paths = False
    taken = {'convolution': 0, 'addmm': 0}
    conv_forward = block.squeeze.conv_forward
    block.squeeze.conv_forward = lambda x: (
        taken.__setitem__('convolution', taken['convolution'] + 1), conv_forward(x))[1]
    addmm = torch.addmm
    monkeypatch.setattr(torch, 'addmm', lambda *a, **k: (
        taken.__setitem__('addmm', taken['addmm'] + 1), addmm(*a, **k))[1])
    for dtype, tolerance in ((torch.float32, 1e-6), (torch.float64, 1e-12)):
        x = torch.randn(batch, 8, *size, dtype=dtype)
        fast_block, plain_block = block.to(dtype), plain.to(dtype)
        for context in (torch.enable_grad, torch.inference_mode):
            with context():
                y, w = fast_block(x, return_weights=True)
                addmm_calls = taken['addmm']
                y_plain, w_plain = plain_block(x, return_weights=True)
                assert taken['addmm'] == addmm_calls  # the plain path never fuses
            torch.testing.assert_close(y, y_plain, rtol=tolerance, atol=tolerance)
            torch.testing.assert_close(w, w_plain, rtol=tolerance, atol=tolerance)
    assert taken['convolution'] == 0  # the fast block always took the matrix-product squeeze
    assert taken['addmm'] == (4 if size == (5, 7) else 0)


@pytest.mark.parametrize('batch', [1, 3])
@pytest.mark.parametrize('size', [(5, 7), (9, 4)])
def test_channels_last_inputs_give_the_papers_steps(batch, size):
    """Channels-last inputs take the convolution and ``x + recall`` (no fast path reads them in
    place); the result is the paper's step-by-step block, in fp64 to 1e-12, kept channels-last."""
    block = trained_block().double()
    x = torch.randn(batch, 8, *size, dtype=torch.float64).to(memory_format=torch.channels_last)
    y, w = block(x, return_weights=True)
    y_ref, w_ref = reference_forward(block, x)
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(w, w_ref, rtol=1e-12, atol=1e-12)
    assert y.is_contiguous(memory_format=torch.channels_last)
