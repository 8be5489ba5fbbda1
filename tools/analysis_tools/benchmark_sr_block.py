#!/usr/bin/env python
"""What one SR block costs inside a ResNet50: baseline and SR side by side, in one process.

The network is torchvision's ResNet50 (needs only torch, torchvision and mmengine, so it also
runs on a machine without mmcv); the SR network is the same network, same weights, with an
:class:`~mmsr.SRBlock` after ``layer3`` (the paper's ImageNet setting, M=3). Runs are
interleaved (baseline, SR, baseline, SR, ...) after a warm-up, so drifts hit both alike.

Reported per mode (inference at ``--infer-batch``, training step = forward + backward +
SGD step at ``--train-batch``):

* ``network``: median time of baseline and SR network with their spread (IQR), and the
  median of the paired SR/baseline ratios of consecutive runs;
* ``block in network``: the SR block's forward timed *inside* extra SR runs, interleaved with
  the others (forward pre/post hooks, so with the cache state it really meets; on CUDA with
  events in the stream, i.e. the block's GPU time), as a share of the baseline network's
  median;
* ``block alone``: the SR block timed on its own on a feature map of the same shape (forward,
  or forward + backward for the training step), as a share of the baseline network's median;
* ``floor``: the memory-traffic floor, timed like ``block in network`` (in extra SR runs, in the
  block's place): reading the input and the memory once and writing the output, which any exact
  implementation of the block must do (:mod:`mmsr.analysis.traffic_floor`).

The two block figures isolate the block's cost from the run-to-run noise of the whole network,
which on a shared CPU is larger than the 0.5% being measured.

Example::

    python tools/analysis_tools/benchmark_sr_block.py --device cpu --repeats 30
    python tools/analysis_tools/benchmark_sr_block.py --device cuda --infer-batch 32 \
        --train-batch 32 --amp
"""
from __future__ import annotations

import argparse
import json
from typing import Dict

import torch
from torch import nn

from mmsr.analysis.timing import make_step, paired_ratio, peak_cuda_memory_mib, summary
from mmsr.analysis.traffic_floor import interleaved_with_sr_timing


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--input-size', type=int, default=224)
    parser.add_argument('--infer-batch', type=int, default=1)
    parser.add_argument('--train-batch', type=int, default=8)
    parser.add_argument('--num-memory-blocks', type=int, default=10, help='P (default 10)')
    parser.add_argument('--hidden-channels', type=int, default=16, help='h (default 16)')
    parser.add_argument('--repeats', type=int, default=20, help='timed runs of each model')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--modes', nargs='+', default=['inference', 'train'],
                        choices=['inference', 'train'])
    parser.add_argument('--json', help='also write the results to this JSON file')
    return parser.parse_args(argv)


def build_networks(args) -> Dict[str, nn.Module]:
    import torchvision

    from mmsr.models.layers import SRBlock
    torch.manual_seed(0)
    baseline = torchvision.models.resnet50()
    feature = args.input_size
    for _ in range(4):  # stem conv, max-pool, layer2, layer3: each ceil(n / 2)
        feature = -(-feature // 2)
    block = SRBlock(1024, feature, args.num_memory_blocks, args.hidden_channels)
    with torch.no_grad():
        block.memory.normal_(std=0.01)  # a trained memory, not the zero start
    with_sr = torchvision.models.resnet50()
    with_sr.load_state_dict(baseline.state_dict())
    with_sr.layer3 = nn.Sequential(with_sr.layer3, block)
    return dict(baseline=baseline, sr=with_sr, block=block, feature=feature)


def run_mode(nets, args, device, train: bool) -> Dict[str, object]:
    batch = args.train_batch if train else args.infer_batch
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    x = torch.randn(batch, 3, args.input_size, args.input_size, device=device)
    x = x.to(memory_format=memory_format)
    feature = torch.randn(batch, 1024, nets['feature'], nets['feature'], device=device,
                          requires_grad=train).to(memory_format=memory_format)
    steps = {}
    for name in ('baseline', 'sr'):
        model = nets[name].to(device, memory_format=memory_format).train(train)
        steps[name] = make_step(model, model, x, train, args.amp)
    block = nets['block'].train(train)
    upstream_grad = torch.randn_like(feature)  # a dense gradient, as inside a network

    def block_step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.amp):
            if train:
                block.zero_grad(set_to_none=True)
                feature.grad = None
                block(feature).backward(upstream_grad)
            else:
                with torch.inference_mode():
                    block(feature)

    steps['block'] = block_step
    times, block_times, floor_times = interleaved_with_sr_timing(
        steps, [nets['block']], args.repeats, args.warmup, device)
    result = {name: summary(values) for name, values in times.items()}
    base = result['baseline']['median_ms']
    # Median of the paired (interleaved) ratios: robust to drifts that affect both alike.
    result['network_ratio'], result['network_ratio_iqr'] = paired_ratio(times['sr'],
                                                                        times['baseline'])
    result['block_share_percent'] = 100 * result['block']['median_ms'] / base
    result['block_in_network'] = summary(block_times)
    result['block_in_network_share_percent'] = (
        100 * result['block_in_network']['median_ms'] / base)
    result['floor_in_network'] = summary(floor_times)
    result['floor_share_percent'] = 100 * result['floor_in_network']['median_ms'] / base
    result['batch'] = batch
    if device.type == 'cuda':
        result['peak_memory_mib'] = peak_cuda_memory_mib(
            {name: steps[name] for name in ('baseline', 'sr')}, device)
    return result


def main(argv=None) -> Dict[str, object]:
    args = parse_args(argv)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    nets = build_networks(args)
    print(f'ResNet50 vs ResNet50 + SR(M3, P{args.num_memory_blocks}, h{args.hidden_channels}, '
          f'memory {nets["feature"]}x{nets["feature"]}) at {args.input_size}px on {device} '
          f'({torch.get_num_threads()} threads), {args.repeats} interleaved runs'
          f'{", bf16 autocast" if args.amp else ""}'
          f'{", channels_last" if args.channels_last else ""}')
    params = {name: sum(p.numel() for p in nets[name].parameters()) for name in ('baseline', 'sr')}
    report = dict(device=str(device), params=params, args=vars(args))
    for mode in args.modes:
        result = run_mode(nets, args, device, train=mode == 'train')
        report[mode] = result
        print(f'{mode:9s} batch {result["batch"]:3d}: baseline '
              f'{result["baseline"]["median_ms"]:.2f} ms (IQR {result["baseline"]["iqr_ms"]:.2f})'
              f' | SR {result["sr"]["median_ms"]:.2f} ms (IQR {result["sr"]["iqr_ms"]:.2f})'
              f' | ratio {result["network_ratio"]:.4f} (IQR {result["network_ratio_iqr"]:.4f})'
              f' | block in network {result["block_in_network"]["median_ms"]:.3f} ms = '
              f'{result["block_in_network_share_percent"]:.2f}% (forward)'
              f' | block alone {result["block"]["median_ms"]:.3f} ms = '
              f'{result["block_share_percent"]:.2f}%'
              f' | floor {result["floor_in_network"]["median_ms"]:.3f} ms = '
              f'{result["floor_share_percent"]:.2f}%'
              + (f' | peak MiB {result["peak_memory_mib"]}' if 'peak_memory_mib' in result else ''))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == '__main__':
    main()
