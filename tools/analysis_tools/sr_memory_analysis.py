#!/usr/bin/env python
"""What a trained model's SR memory recalls, over a dataset: the paper's Figures 2-7 as PNG
plots plus a JSON of the numbers (see :mod:`mmsr.analysis.memory_recall`), per class.

    python tools/analysis_tools/sr_memory_analysis.py \
        configs/imagenet/resnet50-d2d-sr_8xb32-450e_in1k.py work_dirs/.../epoch_450.pth \
        --out-dir sr_analysis --classes goldfish pug airliner cliff church
    python tools/analysis_tools/sr_memory_analysis.py configs/deeplabv3_r50_sr_cityscapes.py \
        deeplabv3_sr.pth --out-dir sr_analysis_cityscapes --classes car person road

Works for classifiers (an image's class is its label) and segmentors (an image belongs to every
class its ground truth shows). Reads the config's val (or --split test) dataloader. Figure 3
(``*_channel_activation.png``): per class, the channel-wise mean activation before and after
the block and the delta in % of the mean activation; the printed "shift" is the mean absolute
delta in % (the paper's "2% to 10%").
"""
import argparse
import json
import sys
from pathlib import Path

import torch
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar

import mmsr  # noqa: F401 (registers the SR models)
from mmsr.analysis.memory_recall import (MemoryRecallCollector, choose_classes, image_classes,
                                         plot)
from mmsr.analysis.sr_models import build_model
from mmsr.cli import exit_with, parsed_config, run_cli, tool_parser
from mmsr.engine import build_checked_dataloader
from mmsr.utils.config import detect_codebase


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__, json_report=False)
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', default='sr_memory_analysis')
    parser.add_argument('--split', choices=['val', 'test'], default='val')
    parser.add_argument('--classes', nargs='+', help='classes to show against all (names or '
                        "indices; default: the paper's five where the dataset has them)")
    parser.add_argument('--max-images', type=int, help='stop after this many images')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


def analyse(args) -> dict:
    cfg = parsed_config(args)
    codebase = detect_codebase(cfg)
    loader_key = f'{args.split}_dataloader'
    with DefaultScope.overwrite_default_scope(codebase):
        dataloader = build_checked_dataloader(cfg[loader_key], loader_key)
    model = build_model(cfg)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()
    collector = MemoryRecallCollector(model)
    class_names = list(dataloader.dataset.metainfo['classes'])
    total = len(dataloader.dataset)
    if args.max_images:
        total = min(total, args.max_images)
    progress, seen = ProgressBar(total, file=sys.stdout), 0
    with torch.no_grad(), DefaultScope.overwrite_default_scope(codebase):
        for data in dataloader:
            data = model.data_preprocessor(data, False)
            model(data['inputs'], data['data_samples'], mode='tensor')
            collector.add_labels([image_classes(sample, len(class_names))
                                  for sample in data['data_samples']])
            for _ in data['data_samples']:
                progress.update()
            seen += len(data['data_samples'])
            if seen >= total:
                break
    collector.remove()
    chosen = choose_classes(class_names, args.classes, collector.seen_classes)
    return dict(config=args.config, checkpoint=args.checkpoint, split=args.split, images=seen,
                classes=[class_names[i] for i in chosen],
                sr_blocks=collector.results(class_names, chosen))


def shift_table(blocks: dict) -> str:
    """Figure 3 in numbers: each class's relative shift of the channel means, per SR block."""
    lines = []
    for name, block in blocks.items():
        lines.append(f'{name}: channel means after vs before the block (Figure 3)')
        lines.append(f'  {"class":<24}{"images":>7}{"shift":>9}{"max |delta|":>13}')
        for label, stats in block['channel_activation'].items():
            largest = max(abs(value) for value in stats['relative_delta'])
            lines.append(f'  {label[:23]:<24}{stats["images"]:>7}'
                         f'{stats["relative_shift"]:>8.2f}%{largest:>12.2f}%')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)

    def run() -> int:
        report = analyse(args)
        out_dir = Path(args.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = plot(report['sr_blocks'], out_dir)
        with open(out_dir / 'sr_memory_analysis.json', 'w') as f:
            json.dump(report, f, indent=1)
        print(f'\n{report["images"]} images, classes {report["classes"]}')
        print(shift_table(report['sr_blocks']))
        print(f'wrote {out_dir / "sr_memory_analysis.json"} and '
              f'{", ".join(p.name for p in written)}')
        return 0

    return run_cli('sr_memory_analysis.py', run)


if __name__ == '__main__':
    exit_with(main())
