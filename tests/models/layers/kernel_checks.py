"""The Triton kernel's check against the exact ``x + w @ M``, shared by the interpreter test (in a
subprocess, on the CPU) and the GPU test."""
import torch

from mmsr.models.layers.sr_recall_kernel import recall_add


def check_against_exact(shapes, device):
    """For each ``(B, C, H, W, P)``: fp32 to 1e-6 of the fp64 result, fp16 and bf16 within one
    rounding of it (fp32 accumulation; ``x`` itself rounded first). Returns the count checked."""
    gen = torch.Generator(device=device).manual_seed(0)
    for B, C, H, W, P in shapes:
        x = torch.randn(B, C, H, W, device=device, generator=gen)
        w = torch.softmax(torch.randn(B, P, device=device, generator=gen), 1)
        m = torch.randn(P, C, H, W, device=device, generator=gen)
        exact = x.double() + (w.double() @ m.double().flatten(1)).view_as(x)
        out = recall_add(x, w, m)
        assert out.dtype == torch.float32 and out.shape == x.shape
        torch.testing.assert_close(out.double(), exact, rtol=1e-6, atol=1e-6)
        for dtype in (torch.float16, torch.bfloat16):
            half = recall_add(x.to(dtype), w, m)
            assert half.dtype == dtype
            exact_half = x.to(dtype).double() + (w.double() @ m.double().flatten(1)).view_as(x)
            torch.testing.assert_close(half.double(), exact_half.to(dtype).double(),
                                       rtol=torch.finfo(dtype).eps, atol=1e-3)
    return len(shapes)
