#!/usr/bin/env python
"""Speed and memory of a config's SR model against its baseline (the same config without SR),
side by side in one process: interleaved runs after a warm-up, median and spread, the
SR/baseline ratio, the SR blocks' own time inside the network, peak CUDA memory, and the
activation memory a training step saves against one feature map per SR block.

    python tools/analysis_tools/benchmark.py configs/resnet50_sr_in1k.py --device cpu \
        --batch-size 1 --modes inference
    python tools/analysis_tools/benchmark.py configs/resnet50_sr_in1k.py --device cuda \
        --batch-size 32 --json bench.json

See :mod:`mmsr.analysis.speed` for what is timed.
"""
import argparse
import json
import sys

import torch
from mmengine.config import DictAction

import mmsr  # noqa: F401 (registers the SR models)
from mmsr.apis import load_config
from mmsr.analysis.speed import benchmark_config, format_benchmark
from mmsr.errors import MMSRError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default: the training input size of the config)')
    parser.add_argument('--modes', nargs='+', default=['inference', 'train'],
                        choices=['inference', 'train'])
    parser.add_argument('--repeats', type=int, default=20, help='timed runs of each model')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, help='torch CPU threads')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast')
    parser.add_argument('--json', help='also write the results to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.device.startswith('cuda') and not torch.cuda.is_available():
            raise MMSRError(f'--device {args.device}: CUDA is not available here; use '
                            '--device cpu.')
        cfg = load_config(args.config, args.cfg_options)
        report = benchmark_config(cfg, args.device, args.batch_size, args.shape, args.modes,
                                  args.repeats, args.warmup, args.amp)
    except MMSRError as error:
        print(f'benchmark.py: error: {error}', file=sys.stderr)
        return 2
    print(format_benchmark(report))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
