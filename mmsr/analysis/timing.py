"""Timing and memory helpers for side-by-side benchmarks (torch only).

Models are timed *interleaved* (A, B, A, B, ...) after a warm-up so that drifts of a shared
machine hit both alike; a ratio is the median of the paired ratios of consecutive runs.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from torch import Tensor, nn


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], None], device: torch.device) -> float:
    """Seconds ``fn`` takes, the device synchronised before and after."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def _quartile_spread(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    quartiles = statistics.quantiles(values, n=4)
    return quartiles[2] - quartiles[0]


def summary(times: Sequence[float]) -> Dict[str, float]:
    """Median and interquartile range, in milliseconds."""
    return dict(median_ms=1e3 * statistics.median(times), iqr_ms=1e3 * _quartile_spread(times))


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> Tuple[float, float]:
    """Median and IQR of the ratios of paired (interleaved) runs."""
    ratios = [n / d for n, d in zip(numerator, denominator)]
    return statistics.median(ratios), _quartile_spread(ratios)


def interleaved(steps: Dict[str, Callable[[], None]], repeats: int, warmup: int,
                device: torch.device) -> Dict[str, List[float]]:
    """Warm each step up, then time them in turn ``repeats`` times."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            times[name].append(timed(step, device))
    return times


def peak_cuda_memory_mib(steps: Dict[str, Callable[[], None]],
                         device: torch.device) -> Dict[str, float]:
    """Peak CUDA memory allocated (MiB) during one run of each step."""
    peaks = {}
    for name, step in steps.items():
        torch.cuda.reset_peak_memory_stats(device)
        timed(step, device)
        peaks[name] = torch.cuda.max_memory_allocated(device) / 2**20
    return peaks


def outputs_loss(output) -> Tensor:
    """A scalar from whatever a model returns (tensor, or tuple/list/dict of them), for a
    backward pass of the same cost as a real loss."""
    if isinstance(output, Tensor):
        return output.float().square().mean()
    if isinstance(output, dict):
        output = list(output.values())
    return sum(outputs_loss(item) for item in output)


def make_step(model: nn.Module, forward: Callable[[Tensor], object], x: Tensor, train: bool,
              amp: bool) -> Callable[[], None]:
    """Inference (``inference_mode``) or one training step (forward, backward, SGD step)."""
    autocast = torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp)
    if not train:
        def infer() -> None:
            with torch.inference_mode(), autocast:
                forward(x)
        return infer
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = outputs_loss(forward(x))
        loss.backward()
        optimizer.step()
    return train_step


def saved_activation_bytes(model: nn.Module, forward: Callable[[], object]) -> int:
    """Bytes of the distinct tensors autograd saves for the backward pass during ``forward()``:
    the activation memory a training step holds at its peak, ``model``'s parameters excluded."""
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages: Dict[int, int] = {}

    def pack(tensor: Tensor) -> Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        output = forward()
    del output
    return sum(storages.values())


class BlockTimer:
    """Times the forward calls of some modules inside a running network; ``times`` holds one
    total (seconds) per ``with`` block. On CUDA, events recorded in the stream measure the
    modules' GPU time without synchronising inside the network; on the CPU, the wall time."""

    def __init__(self, modules: Sequence[nn.Module], device: torch.device) -> None:
        self.modules, self.device = list(modules), device
        self.times: List[float] = []
        self._marks: List[list] = []
        self._handles: list = []

    def _mark(self) -> object:
        if self.device.type == 'cuda':
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def _started(self, module, inputs) -> None:
        self._marks.append([self._mark(), None])

    def _finished(self, module, inputs, output) -> None:
        self._marks[-1][1] = self._mark()

    def __enter__(self) -> 'BlockTimer':
        self._marks = []
        for module in self.modules:
            self._handles += [module.register_forward_pre_hook(self._started),
                              module.register_forward_hook(self._finished)]
        return self

    def timing(self, step: Callable[[], None]) -> Callable[[], None]:
        """``step`` with these modules timed during it."""
        def timed_step() -> None:
            with self:
                step()
        return timed_step

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        synchronize(self.device)
        if self.device.type == 'cuda':
            total = sum(start.elapsed_time(end) for start, end in self._marks) / 1e3
        else:
            total = sum(end - start for start, end in self._marks)
        self.times.append(total)
