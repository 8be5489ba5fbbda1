#!/usr/bin/env python
"""Speed and memory of an SR network against its baseline, side by side in one process:
interleaved runs after a warm-up, median and spread, the paired SR/baseline ratio, the SR
blocks' own time inside the network next to their memory-traffic floor, peak CUDA memory, and
the activation memory a training step saves against one feature map per SR block.

    python tools/analysis_tools/benchmark.py configs/resnet50_sr_in1k.py --device cpu \
        --batch-size 1 --modes inference
    python tools/analysis_tools/benchmark.py configs/resnet50_sr_in1k.py --device cuda \
        --batch-size 32 --json bench.json
    python tools/analysis_tools/benchmark.py --torchvision-resnet50 --device cuda \
        --batch-size 5 --modes inference

A config is compared with its baseline (the same config without SR, same weights).
``--torchvision-resnet50`` instead compares torchvision's ResNet50 with the same network plus an
SR block after layer3 (P and h from --num-memory-blocks and --hidden-channels): needs only
torch, torchvision and mmengine, no mmcv. See :mod:`mmsr.analysis.benchmark`.
"""

import torch

import mmsr  # noqa: F401 (registers the SR models)
from mmsr.analysis.benchmark import (benchmark, config_subject, format_report,
                                     torchvision_resnet50_subject)
from mmsr.cli import exit_with, parsed_config, run_cli, tool_parser, write_json
from mmsr.errors import ConfigError


def main(argv=None) -> int:
    parser = tool_parser(__doc__, config='optional')
    parser.add_argument('--torchvision-resnet50', action='store_true',
                        help='benchmark torchvision ResNet50 + SR instead of a config')
    parser.add_argument('--num-memory-blocks', type=int, default=10,
                        help='P, with --torchvision-resnet50 (default 10)')
    parser.add_argument('--hidden-channels', type=int, default=16,
                        help='h, with --torchvision-resnet50 (default 16)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch-size', type=int, nargs='+', default=[1],
                        help='one or more batch sizes, each benchmarked in turn')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default: the training input size of the config)')
    parser.add_argument('--modes', nargs='+', default=['inference', 'train'],
                        choices=['inference', 'train'])
    parser.add_argument('--repeats', type=int, default=20, help='timed runs of each network')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, help='torch CPU threads')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--plain-sr', action='store_true',
                        help="the SR blocks without their fast paths (SRBlock.fast_paths)")
    parser.add_argument('--triton-recall', action='store_true',
                        help='the SR blocks with the Triton recall kernel (CUDA inference; '
                             'SRBlock.triton_recall)')
    args = parser.parse_args(argv)

    def run() -> int:
        if args.threads:
            torch.set_num_threads(args.threads)
        if args.device.startswith('cuda') and not torch.cuda.is_available():
            raise ConfigError(f'--device {args.device}: CUDA is not available here; use '
                              '--device cpu.')
        if args.torchvision_resnet50 == (args.config is not None):
            raise ConfigError('give either a config or --torchvision-resnet50.')
        if args.torchvision_resnet50:
            subject = torchvision_resnet50_subject(args.num_memory_blocks, args.hidden_channels,
                                                   args.shape[0] if args.shape else 224)
        else:
            subject = config_subject(parsed_config(args), args.shape)
        reports = []
        for batch_size in args.batch_size:
            reports.append(benchmark(subject, args.device, batch_size, args.modes, args.repeats,
                                     args.warmup, args.amp, args.channels_last, args.plain_sr,
                                     args.triton_recall))
            print(format_report(reports[-1]), flush=True)
        write_json(args.json, reports[0] if len(reports) == 1 else reports)
        return 0

    return run_cli('benchmark.py', run)


if __name__ == '__main__':
    exit_with(main())
