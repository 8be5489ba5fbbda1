"""The SR block's recall and addition, ``x + w @ M``, as one Triton kernel (CUDA inference).

Eager PyTorch runs the recall as a matrix product that writes the recalled ``(B, C, H, W)`` map,
then reads it back for the addition (or, fused as ``addmm``, launches cuBLAS for a product whose
inner dimension is only P). This kernel reads ``x`` once and writes the output once; each
program holds one chunk of ``C*H*W`` of all P memory blocks in registers while it walks up to
``BATCH_CHUNK`` images, so the memory is read from DRAM about once (the programs of one chunk
share it through L2): the block's memory-traffic floor. It accumulates in fp32 and stores in
``x``'s dtype.

Triton is imported on first use only: ``SRBlock`` itself needs torch and mmengine alone.
"""
from __future__ import annotations

import functools
import importlib.util
import os

import torch
from torch import Tensor

BLOCK = 256  # elements of C*H*W per program
BATCH_CHUNK = 4  # images per program: more programs in flight for large batches
# Triton's interpreter (CPU tensors), read once as Triton reads it: when kernels are defined.
INTERPRETING = os.environ.get('TRITON_INTERPRET') == '1'


@functools.lru_cache(maxsize=None)
def triton_available() -> bool:
    """Whether Triton can be imported (it ships with CUDA builds of torch)."""
    return importlib.util.find_spec('triton') is not None


def kernel_applies(x: Tensor, memory: Tensor) -> bool:
    """Whether :func:`recall_add` may replace the eager recall and addition for ``x``: on CUDA
    (or under Triton's interpreter), with no autograd graph to record (``torch.no_grad`` /
    ``inference_mode``, or nothing that requires grad), for a dtype it stores."""
    if not (x.is_cuda or INTERPRETING):
        return False
    if torch.is_grad_enabled() and (x.requires_grad or memory.requires_grad):
        return False
    return x.dtype in (torch.float32, torch.float16, torch.bfloat16) and triton_available()


@functools.lru_cache(maxsize=None)
def _kernel():
    import triton
    import triton.language as tl

    @triton.jit
    def recall_add(x_ptr, w_ptr, m_ptr, out_ptr, batch, n, num_blocks, batch_chunk,
                   P_PAD: tl.constexpr, BLOCK: tl.constexpr):
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        first = tl.program_id(1) * batch_chunk
        in_range = offsets < n
        rows = tl.arange(0, P_PAD)
        has_row = rows < num_blocks
        # This program's chunk of every memory block, loaded once: (P_PAD, BLOCK) in fp32.
        memory = tl.load(m_ptr + rows[:, None] * n + offsets[None, :],
                         mask=has_row[:, None] & in_range[None, :], other=0.0).to(tl.float32)
        for b in range(first, tl.minimum(first + batch_chunk, batch)):
            weights = tl.load(w_ptr + b * num_blocks + rows, mask=has_row,
                              other=0.0).to(tl.float32)
            recalled = tl.sum(weights[:, None] * memory, axis=0)
            image = tl.cast(b, tl.int64) * n  # B*C*H*W may pass 2**31
            x = tl.load(x_ptr + image + offsets, mask=in_range, other=0.0).to(tl.float32)
            tl.store(out_ptr + image + offsets,
                     (x + recalled).to(out_ptr.dtype.element_ty), mask=in_range)

    return triton, recall_add


def recall_add(x: Tensor, weights: Tensor, memory: Tensor) -> Tensor:
    """``x + (weights @ memory.flatten(1)).view_as(x)``.

    Args:
        x: ``(B, C, H, W)``, contiguous (NCHW); fp32, fp16 or bf16.
        weights: ``(B, P)``, the memory weights.
        memory: ``(P, C, H, W)``, contiguous.

    Returns:
        ``(B, C, H, W)`` in ``x.dtype``, computed in fp32. Runs where Triton runs: CUDA tensors,
        or CPU tensors under Triton's interpreter (``TRITON_INTERPRET=1``).
    """
    triton, kernel = _kernel()
    batch, n = x.shape[0], x[0].numel()
    num_blocks = memory.shape[0]
    out = torch.empty_like(x)
    grid = (triton.cdiv(n, BLOCK), triton.cdiv(batch, BATCH_CHUNK))
    kernel[grid](x, weights.contiguous(), memory, out, batch, n, num_blocks, BATCH_CHUNK,
                 P_PAD=max(triton.next_power_of_2(num_blocks), 2), BLOCK=BLOCK)
    return out
