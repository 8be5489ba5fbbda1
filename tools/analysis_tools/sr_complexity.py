#!/usr/bin/env python
"""Parameters and FLOPs of a config's SR model against its baseline (the same config without
SR), absolute and in %, and per SR block - counted, from mmengine's complexity analysis, and
from the closed-form formulas (see :mod:`mmsr.analysis.complexity`).

    python tools/analysis_tools/sr_complexity.py configs/deeplabv3_r50_sr_cityscapes.py
    python tools/analysis_tools/sr_complexity.py configs/resnet50_sr_in1k.py --shape 224 224 \
        --json complexity.json

Exit status 1 if the three ways of counting disagree.
"""
import argparse
import json
import sys

from mmengine.config import DictAction

import mmsr  # noqa: F401 (registers the SR models)
from mmsr.apis import load_config
from mmsr.analysis import complexity_report, format_report
from mmsr.errors import MMSRError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default: the training input size of the config)')
    parser.add_argument('--json', help='also write the report to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.cfg_options)
        report = complexity_report(cfg, args.shape)
    except MMSRError as error:
        print(f'sr_complexity.py: error: {error}', file=sys.stderr)
        return 2
    print(format_report(report))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
    return 0 if report['consistent'] else 1


if __name__ == '__main__':
    sys.exit(main())
