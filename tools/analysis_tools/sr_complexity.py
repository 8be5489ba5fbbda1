#!/usr/bin/env python
"""Parameters and FLOPs of a config's SR model against its baseline (the same config without
SR), absolute and in %, and per SR block - counted, from mmengine's complexity analysis, and
from the closed-form formulas (see :mod:`mmsr.analysis.complexity`).

    python tools/analysis_tools/sr_complexity.py configs/deeplabv3_r50_sr_cityscapes.py
    python tools/analysis_tools/sr_complexity.py configs/resnet50_sr_in1k.py --shape 224 224 \
        --json complexity.json

For a paper row whose "computational" overhead the paper prints (Table IV: +1.90% FCN, +3.81%
DeepLabV3), that figure is printed beside the FLOPs overhead: the block's FLOPs are far below it,
so the paper's figure is most likely time (GPU time: docs/benchmark.md). Exit status 1 if the
three ways of counting disagree.
"""

import mmsr  # noqa: F401 (registers the SR models)
from mmsr.analysis import complexity_report, format_report
from mmsr.analysis.paper_rows import paper_row_of
from mmsr.cli import exit_with, parsed_config, run_cli, tool_parser, write_json


def main(argv=None) -> int:
    parser = tool_parser(__doc__)
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default: the training input size of the config)')
    args = parser.parse_args(argv)

    def run() -> int:
        report = complexity_report(parsed_config(args), args.shape)
        print(format_report(report))
        row = paper_row_of(args.config)
        if row is not None and row.paper_compute_oh is not None:
            report['paper_compute_oh'] = row.paper_compute_oh
            print(f'paper ({row.row}): +{row.paper_compute_oh:.2f}% computational overhead; the '
                  f'SR block adds {report["delta_flops_percent"]:+.4f}% FLOPs, so the paper\'s '
                  'figure is most likely time (GPU time: docs/benchmark.md)')
        write_json(args.json, report)
        return 0 if report['consistent'] else 1

    return run_cli('sr_complexity.py', run)


if __name__ == '__main__':
    exit_with(main())
