"""The Triton recall-and-add kernel, run by Triton's interpreter on the CPU (TRITON_INTERPRET=1,
in a subprocess: the variable is read when Triton compiles): equal to the eager ``x + w @ M``
(fp32 to 1e-6; fp16 and bf16 to their rounding), and taken by ``SRBlock`` exactly where it
applies (asked for with ``triton_recall=True``; inference, contiguous input at the memory size),
giving the plain path's output. On CUDA (``gpu`` tests) the same checks run on the device."""
import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from allowed_skips import HAS_TRITON_INTERPRETER, NO_TRITON_INTERPRETER
from kernel_checks import check_against_exact
from mmsr.models.layers.sr_recall_kernel import kernel_applies

REPO = Path(__file__).resolve().parents[3]
needs_interpreter = pytest.mark.skipif(not HAS_TRITON_INTERPRETER, reason=NO_TRITON_INTERPRETER)


def interpret(code):
    env = dict(os.environ, TRITON_INTERPRET='1',
               PYTHONPATH=os.pathsep.join([str(REPO), str(Path(__file__).parent)]))
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@needs_interpreter
def test_kernel_equals_the_eager_recall_and_add():
    out = interpret('''
        from kernel_checks import check_against_exact
        from mmsr.models.layers.sr_recall_kernel import BLOCK
        shapes = [(1, 8, 5, 7, 10), (5, 16, 14, 14, 10), (32, 3, 7, 9, 10), (3, 4, 3, 3, 1),
                  (2, 6, 4, 4, 17), (2, 1, 1, BLOCK + 1, 2)]
        print('kernel ok', check_against_exact(shapes, 'cpu'))
    ''')
    assert 'kernel ok 6' in out


@needs_interpreter
def test_the_block_takes_the_kernel_exactly_where_it_applies():
    out = interpret('''
        import torch
        from mmsr.models.layers import sr_block
        from mmsr.models.layers.sr_block import SRBlock
        calls = []
        kernel = sr_block.recall_add
        sr_block.recall_add = lambda *a: calls.append(1) or kernel(*a)
        torch.manual_seed(0)
        fast = SRBlock(8, (6, 5), 10, triton_recall=True).eval()
        plain, default = SRBlock(8, (6, 5), 10).eval(), SRBlock(8, (6, 5), 10).eval()
        with torch.no_grad():
            fast.memory.normal_()
        plain.load_state_dict(fast.state_dict())
        default.load_state_dict(fast.state_dict())
        plain.fast_paths = False
        for batch in (1, 5, 32):
            x = torch.randn(batch, 8, 6, 5)
            for context in (torch.no_grad, torch.inference_mode):
                with context():
                    torch.testing.assert_close(fast(x), plain(x), rtol=1e-6, atol=1e-6)
                    default(x)                                      # not asked for: eager
        assert len(calls) == 6, calls
        fast(x).sum().backward()                                   # training: autograd
        fast(x.to(memory_format=torch.channels_last))              # not contiguous NCHW
        with torch.no_grad():
            fast(torch.randn(2, 8, 12, 10))                        # another size: resampled
        assert len(calls) == 6, calls
        print('dispatch ok')
    ''')
    assert 'dispatch ok' in out


def test_the_cpu_path_never_takes_the_kernel():
    x, memory = torch.randn(2, 3, 4, 4), torch.nn.Parameter(torch.randn(2, 3, 4, 4))
    with torch.no_grad():
        assert not kernel_applies(x, memory)


# --- on a CUDA device ----------------------------------------------------------------------
CUDA_SHAPES = [(B, C, H, W, P) for B in (1, 5, 32) for P in (1, 10, 17)
               for C, H, W in ((64, 14, 14), (3, 7, 9), (1, 1, 257))]  # 257 = BLOCK + 1


@pytest.mark.gpu
def test_kernel_on_cuda_equals_the_exact_recall_and_add():
    assert check_against_exact(CUDA_SHAPES, 'cuda') == 27


@pytest.mark.gpu
@pytest.mark.parametrize('amp', [None, torch.float16, torch.bfloat16])
def test_the_block_takes_the_kernel_on_cuda_when_asked(monkeypatch, amp):
    from mmsr.models.layers import sr_block
    calls = []
    kernel = sr_block.recall_add
    monkeypatch.setattr(sr_block, 'recall_add', lambda *a: calls.append(1) or kernel(*a))
    torch.manual_seed(0)
    fast = sr_block.SRBlock(64, (14, 14), 10, triton_recall=True).cuda().eval()
    eager = sr_block.SRBlock(64, (14, 14), 10).cuda().eval()  # the default: not asked for
    with torch.no_grad():
        fast.memory.normal_()
    eager.load_state_dict(fast.state_dict())
    for batch in (1, 5, 32):
        x = torch.randn(batch, 64, 14, 14, device='cuda')
        autocast = torch.autocast('cuda', dtype=amp) if amp else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            x = x if amp is None else x.to(amp)
            got, want = fast(x), eager(x)
        assert got.dtype == want.dtype
        tol = 1e-6 if amp is None else 2 * torch.finfo(amp).eps
        torch.testing.assert_close(got.float(), want.float(), rtol=tol, atol=tol * 4)
    assert len(calls) == 3
