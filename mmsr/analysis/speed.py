"""Speed and memory of a config's SR model against its baseline, side by side in one process.

Both models are built from the config (the baseline without its SR blocks), the SR model takes
the baseline's weights, and its memories a small random "trained" state. Each is run as
``model(x, mode='tensor')`` - the network without the losses' bookkeeping: backbone, neck and
head for a classifier, backbone and decode head for a segmentor - timed interleaved after a
warm-up. A training step is that forward, a backward of a mean-square of the outputs (the same
graph a loss would back-propagate through) and an SGD step. The SR blocks are also timed inside
the network, next to their memory-traffic floor (:mod:`.traffic_floor`): the least time any
exact implementation of them could take there.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import torch
from mmengine.config import Config
from torch import nn

from .sr_models import build_sr_and_baseline, default_input_size, sr_block_inputs, sr_blocks
from .timing import (make_step, paired_ratio, peak_cuda_memory_mib, saved_activation_bytes,
                     summary)
from .traffic_floor import interleaved_with_sr_timing


def _prepare(cfg: Config, device: torch.device) -> Tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    model, baseline = build_sr_and_baseline(cfg)
    missing, unexpected = model.load_state_dict(baseline.state_dict(), strict=False)
    assert not unexpected and all('sr_block' in key for key in missing), (missing, unexpected)
    with torch.no_grad():
        for _, block in sr_blocks(model):
            block.memory.normal_(std=0.01)  # a trained memory, not the zero start
    return model.to(device), baseline.to(device)


def _sr_activation_allowance(model: nn.Module, x: torch.Tensor) -> Tuple[int, int]:
    """Bytes of the feature maps the SR blocks receive at batch ``x``, and of the small tensors
    a block saves besides its output: the squeezed map, the FCN's hidden and output vectors
    (``B x (H*W + h + 2P)`` values)."""
    maps, vectors = 0, 0
    inputs = sr_block_inputs(model, x)
    for name, block in sr_blocks(model):
        batch, _, height, width = inputs[name].shape
        size = inputs[name].element_size()
        maps += inputs[name].numel() * size
        vectors += batch * (height * width + block.hidden_channels
                            + 2 * block.num_memory_blocks) * max(size, 4)
    return maps, vectors


def benchmark_config(cfg: Config, device: str = 'cpu', batch_size: int = 1,
                     input_size: Sequence[int] = None, modes: Sequence[str] = ('inference',
                                                                                'train'),
                     repeats: int = 20, warmup: int = 3, amp: bool = False) -> Dict[str, object]:
    """Per mode: both models' median time and spread, the paired SR/baseline ratio, the SR
    blocks' own time inside the network, peak CUDA memory, and (training) the activation memory
    saved for backward with its increase against one feature map per SR block."""
    device = torch.device(device)
    input_size = tuple(input_size or default_input_size(cfg))
    model, baseline = _prepare(cfg, device)
    blocks = [block for _, block in sr_blocks(model)]
    report: Dict[str, object] = dict(config=cfg.filename, device=str(device),
                                     input_size=list(input_size), batch_size=batch_size,
                                     amp=amp, threads=torch.get_num_threads())
    if device.type == 'cuda':
        report['gpu'] = torch.cuda.get_device_name(device)
    x = torch.randn(batch_size, 3, *input_size, device=device)
    for mode in modes:
        train = mode == 'train'
        steps = {}
        for name, net in (('baseline', baseline), ('sr', model)):
            net.train(train)
            steps[name] = make_step(net, lambda inputs, net=net: net(inputs, mode='tensor'), x,
                                    train, amp)
        times, block_times, floor_times = interleaved_with_sr_timing(steps, blocks, repeats,
                                                                     warmup, device)
        ratio, ratio_iqr = paired_ratio(times['sr'], times['baseline'])
        base_ms = summary(times['baseline'])['median_ms']
        result: Dict[str, object] = dict(
            baseline=summary(times['baseline']), sr=summary(times['sr']), ratio=ratio,
            ratio_iqr=ratio_iqr, overhead_percent=100.0 * (ratio - 1.0),
            sr_blocks_in_network=summary(block_times),
            sr_blocks_share_percent=100.0 * summary(block_times)['median_ms'] / base_ms,
            floor_in_network=summary(floor_times),
            floor_share_percent=100.0 * summary(floor_times)['median_ms'] / base_ms)
        if device.type == 'cuda':
            result['peak_memory_mib'] = peak_cuda_memory_mib(
                {name: steps[name] for name in ('baseline', 'sr')}, device)
        if train:
            saved = {name: saved_activation_bytes(net, lambda net=net: net(x, mode='tensor'))
                     for name, net in (('baseline', baseline), ('sr', model))}
            maps, vectors = _sr_activation_allowance(model, x)
            increase = saved['sr'] - saved['baseline']
            result['activation_memory'] = dict(
                baseline_mib=saved['baseline'] / 2**20, sr_mib=saved['sr'] / 2**20,
                increase_mib=increase / 2**20, sr_input_maps_mib=maps / 2**20,
                increase_in_feature_maps=increase / maps,
                within_one_map_per_block=increase <= maps + vectors)
        report[mode] = result
    return report


def format_benchmark(report: Dict[str, object]) -> str:
    size = 'x'.join(map(str, report['input_size']))
    lines = [f'{report["config"]}: baseline vs SR on {report.get("gpu", report["device"])} '
             f'({report["threads"]} CPU threads), batch {report["batch_size"]}, {size} input'
             + (', bf16 autocast' if report['amp'] else '')]
    for mode in ('inference', 'train'):
        if mode not in report:
            continue
        r = report[mode]
        lines.append(
            f'{mode:9s}: baseline {r["baseline"]["median_ms"]:.2f} ms (IQR '
            f'{r["baseline"]["iqr_ms"]:.2f}) | SR {r["sr"]["median_ms"]:.2f} ms (IQR '
            f'{r["sr"]["iqr_ms"]:.2f}) | ratio {r["ratio"]:.4f} (IQR {r["ratio_iqr"]:.4f}) = '
            f'{r["overhead_percent"]:+.2f}% | SR blocks inside the network '
            f'{r["sr_blocks_in_network"]["median_ms"]:.3f} ms = '
            f'{r["sr_blocks_share_percent"]:.2f}% of the baseline (forward) | their '
            f'memory-traffic floor {r["floor_in_network"]["median_ms"]:.3f} ms = '
            f'{r["floor_share_percent"]:.2f}%')
        if 'peak_memory_mib' in r:
            peaks = r['peak_memory_mib']
            lines.append(f'{"":9s}  peak CUDA memory: baseline {peaks["baseline"]:.1f} MiB, SR '
                         f'{peaks["sr"]:.1f} MiB')
        if 'activation_memory' in r:
            a = r['activation_memory']
            lines.append(
                f'{"":9s}  activations saved for backward: baseline {a["baseline_mib"]:.2f} MiB,'
                f' SR {a["sr_mib"]:.2f} MiB, +{a["increase_mib"]:.3f} MiB = '
                f'{a["increase_in_feature_maps"]:.3f} x the SR blocks\' input maps '
                f'({a["sr_input_maps_mib"]:.3f} MiB): '
                f'{"at most" if a["within_one_map_per_block"] else "MORE than"} one extra '
                'feature map per block')
    return '\n'.join(lines)
