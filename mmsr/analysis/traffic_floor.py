"""The memory-traffic floor of SR blocks: the least any exact SR block must move, timed in place.

However it is computed, ``Y = X + sum_i w_i M_i`` must read the input ``X`` (``B x C x H x W``)
and every element of the memory ``M`` (``P x C x H x W``), and write ``Y``. The stand-in below
does that and nothing else of note: ``Y = X + sum over (i, h, w) of M``, a reduction that reads
``M`` once and a broadcast add that reads ``X`` once and writes ``Y`` - two streaming kernels, at
the machine's memory bandwidth. Timed inside the network, in the SR block's place (so with the
cache state the block meets), it is the time no implementation of the block can beat: the
benchmark tools report the block's time next to it.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import torch
from torch import Tensor, nn

from .timing import BlockTimer, interleaved


def traffic_floor_forward(block: nn.Module, x: Tensor) -> Tensor:
    """Read ``x`` and ``block.memory`` once each and write a tensor of ``x``'s shape."""
    channel_sums = block.memory.sum(dim=(0, 2, 3), dtype=x.dtype)  # (C,): reads all of M
    return x + channel_sums.view(1, -1, 1, 1)


@contextmanager
def traffic_floor(blocks: Sequence[nn.Module]) -> Iterator[None]:
    """Within the ``with``, each SR block computes :func:`traffic_floor_forward` instead of
    itself; hooks registered on the blocks still fire (only ``forward`` is replaced)."""
    for block in blocks:
        block.forward = lambda x, *args, block=block, **kwargs: traffic_floor_forward(block, x)
    try:
        yield
    finally:
        for block in blocks:
            del block.forward  # back to the class's forward


def interleaved_with_sr_timing(steps: Dict[str, Callable[[], None]],
                               blocks: Sequence[nn.Module], repeats: int, warmup: int,
                               device: torch.device
                               ) -> Tuple[Dict[str, List[float]], List[float], List[float]]:
    """:func:`~mmsr.analysis.timing.interleaved` over ``steps`` plus two extra runs of
    ``steps['sr']`` in each round: one times the SR ``blocks`` inside the network, one times
    their floor in their place. Separate runs, so that the timing hooks add nothing to the runs
    that ``steps`` compare. Returns the steps' times, and the blocks' and the floor's total
    time per timed run (seconds)."""
    block_timer, floor_timer = BlockTimer(blocks, device), BlockTimer(blocks, device)

    def floor_step() -> None:
        with traffic_floor(blocks):
            steps['sr']()

    extra = {'sr_blocks_timed': block_timer.timing(steps['sr']),
             'sr_floor_timed': floor_timer.timing(floor_step)}
    times = interleaved({**steps, **extra}, repeats, warmup, device)
    for name in extra:
        del times[name]
    return times, block_timer.times[warmup:], floor_timer.times[warmup:]
