"""Speed and memory of an SR network against its baseline, side by side in one process.

Used by ``tools/analysis_tools/benchmark.py``. Two networks (a *subject*) are timed
*interleaved* (baseline, SR, baseline, SR, ...) after a warm-up, so that drifts of a shared
machine hit both alike; a ratio is the median of the paired ratios of consecutive runs. A
training step is a forward, a backward of a mean-square of the outputs (the graph a loss would
back-propagate through) and an SGD step.

In two extra runs per round the SR blocks are timed *inside* the network (forward hooks; on
CUDA, events in the stream), once as themselves and once replaced by their **memory-traffic
floor**: ``Y = X + sum over (i, h, w) of M``, which reads the input ``X`` and every element of
the memory ``M`` once and writes ``Y`` - what any exact implementation of
``Y = X + sum_i w_i M_i`` must move - so the least time the block could take in that place.
"""
from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ..models.layers import SRBlock
from .sr_models import sr_block_inputs, sr_blocks

Step = Callable[[], None]


@dataclass
class Subject:
    """A baseline network and the same network with SR blocks (same weights elsewhere)."""
    title: str
    baseline: nn.Module
    sr: nn.Module
    input_size: Tuple[int, int]
    call: Callable[[nn.Module, Tensor], object] = lambda model, x: model(x)

    @property
    def blocks(self) -> List[SRBlock]:
        return [block for _, block in sr_blocks(self.sr)]


# --- timing -------------------------------------------------------------------------------
def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed(step: Step, device: torch.device) -> float:
    """Seconds ``step`` takes, the device synchronised before and after."""
    _synchronize(device)
    start = time.perf_counter()
    step()
    _synchronize(device)
    return time.perf_counter() - start


def _iqr(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    quartiles = statistics.quantiles(values, n=4)
    return quartiles[2] - quartiles[0]


def summary(times: Sequence[float]) -> Dict[str, float]:
    """Median and interquartile range, in milliseconds."""
    return dict(median_ms=1e3 * statistics.median(times), iqr_ms=1e3 * _iqr(times))


def interleaved(steps: Dict[str, Step], repeats: int, warmup: int,
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


class BlockTimer:
    """Times the forward calls of ``modules`` inside a running network: one total (seconds)
    per ``with`` block in ``times``. CUDA: events in the stream (no synchronisation inside the
    network); CPU: wall time."""

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

    def __enter__(self) -> 'BlockTimer':
        self._marks = []
        for module in self.modules:
            self._handles += [
                module.register_forward_pre_hook(lambda *_: self._marks.append([self._mark()])),
                module.register_forward_hook(lambda *_: self._marks[-1].append(self._mark()))]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        _synchronize(self.device)
        if self.device.type == 'cuda':
            self.times.append(sum(s.elapsed_time(e) for s, e in self._marks) / 1e3)
        else:
            self.times.append(sum(e - s for s, e in self._marks))

    def timing(self, step: Step) -> Step:
        """``step`` with these modules timed during it."""
        def timed_step() -> None:
            with self:
                step()
        return timed_step


# --- the memory-traffic floor -------------------------------------------------------------
def traffic_floor_forward(block: SRBlock, x: Tensor) -> Tensor:
    """Read ``x`` and ``block.memory`` once each and write a tensor of ``x``'s shape."""
    channel_sums = block.memory.sum(dim=(0, 2, 3), dtype=x.dtype)  # (C,): reads all of M
    return x + channel_sums.view(1, -1, 1, 1)


@contextmanager
def traffic_floor(blocks: Sequence[SRBlock]) -> Iterator[None]:
    """Within the ``with``, each block computes :func:`traffic_floor_forward` instead of
    itself (only ``forward`` is replaced: hooks on the blocks still fire)."""
    for block in blocks:
        block.forward = lambda x, *args, block=block, **kwargs: traffic_floor_forward(block, x)
    try:
        yield
    finally:
        for block in blocks:
            del block.forward  # back to the class's forward


def interleaved_with_sr_timing(steps: Dict[str, Step], blocks: Sequence[SRBlock], repeats: int,
                               warmup: int, device: torch.device
                               ) -> Tuple[Dict[str, List[float]], List[float], List[float]]:
    """:func:`interleaved` over ``steps``, plus two extra runs of ``steps['sr']`` per round
    that time the ``blocks`` inside the network and their floor in their place (separate runs,
    so the hooks add nothing to the compared ones). Returns the steps' times, and the blocks'
    and the floor's total per timed run (seconds)."""
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


# --- memory -------------------------------------------------------------------------------
def peak_cuda_memory_mib(steps: Dict[str, Step], device: torch.device) -> Dict[str, float]:
    """Peak CUDA memory allocated (MiB) during one run of each step."""
    peaks = {}
    for name, step in steps.items():
        torch.cuda.reset_peak_memory_stats(device)
        timed(step, device)
        peaks[name] = torch.cuda.max_memory_allocated(device) / 2**20
    return peaks


def saved_activation_bytes(model: nn.Module, forward: Callable[[], object]) -> int:
    """Bytes of the distinct tensors autograd saves for backward during ``forward()`` (the
    activation memory a training step holds at its peak), ``model``'s parameters excluded."""
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


def _activation_memory(subject: Subject, x: Tensor) -> Dict[str, object]:
    """Activation memory of a training step, and its increase against the SR blocks' input
    maps plus the small vectors a block saves (``B x (H*W + h + 2P)`` values)."""
    saved = {name: saved_activation_bytes(net, lambda net=net: subject.call(net, x))
             for name, net in (('baseline', subject.baseline), ('sr', subject.sr))}
    inputs = sr_block_inputs(subject.sr, lambda: subject.call(subject.sr, x))
    maps = sum(t.numel() * t.element_size() for t in inputs.values())
    vectors = sum(t.shape[0] * (t.shape[2] * t.shape[3] + b.hidden_channels
                                + 2 * b.num_memory_blocks) * max(t.element_size(), 4)
                  for t, b in ((inputs[name], b) for name, b in sr_blocks(subject.sr)))
    increase = saved['sr'] - saved['baseline']
    return dict(baseline_mib=saved['baseline'] / 2**20, sr_mib=saved['sr'] / 2**20,
                increase_mib=increase / 2**20, sr_input_maps_mib=maps / 2**20,
                increase_in_feature_maps=increase / maps,
                within_one_map_per_block=increase <= maps + vectors)


# --- the benchmark ------------------------------------------------------------------------
def _outputs_loss(output) -> Tensor:
    """A scalar from whatever a model returns (tensor, or tuple/list/dict of them)."""
    if isinstance(output, Tensor):
        return output.float().square().mean()
    if isinstance(output, dict):
        output = list(output.values())
    return sum(_outputs_loss(item) for item in output)


def make_step(model: nn.Module, forward: Callable[[], object], train: bool, amp: bool) -> Step:
    """Inference (``inference_mode``) or one training step (forward, backward, SGD step)."""
    device = next(model.parameters()).device
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)
    if not train:
        def infer() -> None:
            with torch.inference_mode(), autocast:
                forward()
        return infer
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = _outputs_loss(forward())
        loss.backward()
        optimizer.step()
    return train_step


def benchmark(subject: Subject, device: str = 'cpu', batch_size: int = 1,
              modes: Sequence[str] = ('inference', 'train'), repeats: int = 20,
              warmup: int = 3, amp: bool = False, channels_last: bool = False,
              plain_sr: bool = False, triton_recall: bool = False) -> Dict[str, object]:
    """Per mode: both networks' median time and spread, the paired SR/baseline ratio, the SR
    blocks' time inside the network and their floor, peak CUDA memory, and (training) the
    activation memory saved for backward. ``plain_sr``: the SR blocks without their fast
    paths (``SRBlock.fast_paths = False``); ``triton_recall``: with the Triton recall kernel
    (``SRBlock.triton_recall``, CUDA inference) also where the config does not ask for it."""
    device = torch.device(device)
    for block in subject.blocks:
        block.fast_paths = not plain_sr
        block.triton_recall = triton_recall or block.triton_recall
    layout = torch.channels_last if channels_last else torch.contiguous_format
    for net in (subject.baseline, subject.sr):
        net.to(device, memory_format=layout)
    x = torch.randn(batch_size, 3, *subject.input_size, device=device).to(memory_format=layout)
    report: Dict[str, object] = dict(
        subject=subject.title, device=str(device), batch_size=batch_size,
        input_size=list(subject.input_size), amp=amp, channels_last=channels_last,
        sr_fast_paths=not plain_sr,
        sr_triton_recall=any(block.triton_recall for block in subject.blocks),
        threads=torch.get_num_threads(), torch=torch.__version__,
        gpu=torch.cuda.get_device_name(device) if device.type == 'cuda' else None)
    for mode in modes:
        train = mode == 'train'
        steps = {}
        for name, net in (('baseline', subject.baseline), ('sr', subject.sr)):
            net.train(train)
            steps[name] = make_step(net, lambda net=net: subject.call(net, x), train, amp)
        times, block_times, floor_times = interleaved_with_sr_timing(
            steps, subject.blocks, repeats, warmup, device)
        ratios = [s / b for s, b in zip(times['sr'], times['baseline'])]
        ratio, baseline = statistics.median(ratios), summary(times['baseline'])
        base_ms = baseline['median_ms']
        blocks, floor = summary(block_times), summary(floor_times)
        result: Dict[str, object] = dict(
            baseline=baseline, sr=summary(times['sr']),
            ratio=ratio, ratio_iqr=_iqr(ratios), overhead_percent=100.0 * (ratio - 1.0),
            sr_blocks_in_network=blocks,
            sr_blocks_share_percent=100.0 * blocks['median_ms'] / base_ms,
            floor_in_network=floor, floor_share_percent=100.0 * floor['median_ms'] / base_ms,
            blocks_over_floor=blocks['median_ms'] / floor['median_ms'])
        if device.type == 'cuda':
            result['peak_memory_mib'] = peak_cuda_memory_mib(steps, device)
        if train:
            result['activation_memory'] = _activation_memory(subject, x)
        report[mode] = result
    return report


def format_report(report: Dict[str, object]) -> str:
    """The report as text: one line per mode, plus memory lines."""
    size = 'x'.join(map(str, report['input_size']))
    options = [', bf16 autocast' if report['amp'] else '',
               ', channels_last' if report['channels_last'] else '',
               '' if report['sr_fast_paths'] else ', SR without its fast paths',
               ', SR with the Triton recall kernel' if report.get('sr_triton_recall') else '']
    lines = [f'{report["subject"]}: baseline vs SR on {report["gpu"] or report["device"]} '
             f'({report["threads"]} CPU threads, torch {report["torch"]}), batch '
             f'{report["batch_size"]}, {size} input{"".join(options)}']
    for mode in ('inference', 'train'):
        if mode not in report:
            continue
        r = report[mode]
        lines.append(
            f'{mode:9s}: baseline {r["baseline"]["median_ms"]:.2f} ms (IQR '
            f'{r["baseline"]["iqr_ms"]:.2f}) | SR {r["sr"]["median_ms"]:.2f} ms (IQR '
            f'{r["sr"]["iqr_ms"]:.2f}) | ratio {r["ratio"]:.4f} (IQR {r["ratio_iqr"]:.4f}) = '
            f'{r["overhead_percent"]:+.2f}% | SR blocks in the network '
            f'{r["sr_blocks_in_network"]["median_ms"]:.3f} ms = '
            f'{r["sr_blocks_share_percent"]:.2f}% | memory-traffic floor '
            f'{r["floor_in_network"]["median_ms"]:.3f} ms = {r["floor_share_percent"]:.2f}% | '
            f'blocks / floor {r["blocks_over_floor"]:.2f}x')
        if 'peak_memory_mib' in r:
            peaks = r['peak_memory_mib']
            lines.append(f'{"":11s}peak CUDA memory: baseline {peaks["baseline"]:.1f} MiB, SR '
                         f'{peaks["sr"]:.1f} MiB')
        if 'activation_memory' in r:
            a = r['activation_memory']
            lines.append(
                f'{"":11s}activations saved for backward: baseline {a["baseline_mib"]:.2f} '
                f'MiB, SR {a["sr_mib"]:.2f} MiB, +{a["increase_mib"]:.3f} MiB = '
                f'{a["increase_in_feature_maps"]:.3f} x the SR blocks\' input maps '
                f'({a["sr_input_maps_mib"]:.3f} MiB): '
                f'{"at most" if a["within_one_map_per_block"] else "MORE than"} one extra '
                'feature map per block')
    return '\n'.join(lines)


def config_subject(cfg, input_size: Optional[Sequence[int]] = None) -> Subject:
    """A config's SR model against its baseline (the config without SR), called as
    ``model(x, mode='tensor')``; the SR model takes the baseline's weights and its memories a
    small random "trained" state."""
    from .sr_models import build_sr_and_baseline, default_input_size
    torch.manual_seed(0)
    model, baseline = build_sr_and_baseline(cfg)
    missing, unexpected = model.load_state_dict(baseline.state_dict(), strict=False)
    assert not unexpected and all('sr_block' in key for key in missing), (missing, unexpected)
    _trained_memory(model)
    return Subject(str(cfg.filename), baseline, model,
                   tuple(input_size or default_input_size(cfg)),
                   lambda net, x: net(x, mode='tensor'))


def torchvision_resnet50_subject(num_memory_blocks: int = 10, hidden_channels: int = 16,
                                 input_size: int = 224) -> Subject:
    """torchvision's ResNet50 and the same network with an SR block after ``layer3`` (the
    paper's ImageNet setting): needs only torch, torchvision and mmengine (no mmcv)."""
    import torchvision

    from ..models.backbones.sr_backbone import conv_output_size
    torch.manual_seed(0)
    baseline, with_sr = torchvision.models.resnet50(), torchvision.models.resnet50()
    with_sr.load_state_dict(baseline.state_dict())
    feature = conv_output_size(input_size, (2, 2, 2, 2))  # stem, max-pool, layer2, layer3
    block = SRBlock(1024, feature, num_memory_blocks, hidden_channels)
    with_sr.layer3 = nn.Sequential(with_sr.layer3, block)
    _trained_memory(with_sr)
    title = (f'torchvision ResNet50 + SR(after layer3, P={num_memory_blocks}, '
             f'h={hidden_channels}, memory {feature}x{feature})')
    return Subject(title, baseline, with_sr, (input_size, input_size))


def _trained_memory(model: nn.Module) -> None:
    with torch.no_grad():
        for block in model.modules():
            if isinstance(block, SRBlock):
                block.memory.normal_(std=0.01)  # a trained memory, not the zero start
