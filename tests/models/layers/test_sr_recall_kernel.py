"""The Triton recall-and-add kernel, run by Triton's interpreter on the CPU (TRITON_INTERPRET=1,
in a subprocess: the variable is read when Triton compiles): equal to the eager ``x + w @ M``
(fp32 to 1e-6; fp16 and bf16 to their rounding), and taken by ``SRBlock`` exactly where it
applies (inference, contiguous input at the memory size), giving the plain path's output."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from allowed_skips import HAS_TRITON_INTERPRETER, NO_TRITON_INTERPRETER
from mmsr.models.layers.sr_recall_kernel import kernel_applies

REPO = Path(__file__).resolve().parents[3]
needs_interpreter = pytest.mark.skipif(not HAS_TRITON_INTERPRETER, reason=NO_TRITON_INTERPRETER)


def interpret(code):
    env = dict(os.environ, TRITON_INTERPRET='1', PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@needs_interpreter
def test_kernel_equals_the_eager_recall_and_add():
    out = interpret('''
        import torch
        from mmsr.models.layers.sr_recall_kernel import BLOCK, recall_add
        torch.manual_seed(0)
        shapes = [(1, 8, 5, 7, 10), (5, 16, 14, 14, 10), (32, 3, 7, 9, 10), (3, 4, 3, 3, 1),
                  (2, 6, 4, 4, 17), (2, 1, 1, BLOCK + 1, 2)]
        for B, C, H, W, P in shapes:
            x = torch.randn(B, C, H, W)
            w = torch.softmax(torch.randn(B, P), 1)
            m = torch.randn(P, C, H, W)
            exact = x.double() + (w.double() @ m.double().flatten(1)).view_as(x)
            out = recall_add(x, w, m)
            assert out.dtype == torch.float32 and out.shape == x.shape
            torch.testing.assert_close(out.double(), exact, rtol=1e-6, atol=1e-6)
            for dtype in (torch.float16, torch.bfloat16):
                half = recall_add(x.to(dtype), w, m)
                assert half.dtype == dtype
                # fp32 accumulation, one rounding: within half a unit of the exact result's
                # rounding (x itself was rounded first).
                exact_half = x.to(dtype).double() + (w.double() @ m.double().flatten(1)).view_as(x)
                torch.testing.assert_close(half.double(), exact_half.to(dtype).double(),
                                           rtol=torch.finfo(dtype).eps, atol=1e-3)
        print('kernel ok', len(shapes))
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
        fast, plain = SRBlock(8, (6, 5), 10).eval(), SRBlock(8, (6, 5), 10).eval()
        with torch.no_grad():
            fast.memory.normal_()
        plain.load_state_dict(fast.state_dict())
        plain.fast_paths = False
        for batch in (1, 5, 32):
            x = torch.randn(batch, 8, 6, 5)
            for context in (torch.no_grad, torch.inference_mode):
                with context():
                    torch.testing.assert_close(fast(x), plain(x), rtol=1e-6, atol=1e-6)
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
