#!/usr/bin/env python
"""Search where the SR block goes and how big it is, as the paper found each row's M and P:
train and test every point of a grid of after_stage (M) x num_memory_blocks (P) x
hidden_channels (h) over seeds, and print each point's mean ± std beside the baseline's, the
best marked.

    python tools/analysis_tools/sr_grid_search.py configs/cifar100/resnet18-sr_1xb128_cifar100.py \
        --work-dir work_dirs/search --after-stage 3 4 --num-memory-blocks 2 4 6 8 10 12 \
        --seeds 0 1 2 3 4 --run

Each point is the config with ``--cfg-options <sr_cfg>.after_stage=M
<sr_cfg>.num_memory_blocks=P <sr_cfg>.hidden_channels=h``, trained and tested as
``multi_seed.py`` runs a config (:mod:`mmsr.analysis.seed_runs`; the same test protocol, by
default the paper row's) into ``WORK_DIR/<config name>/after<M>_P<P>_h<h>/seed_K``; the baseline
into ``WORK_DIR/<baseline name>/seed_K``, where ``multi_seed.py`` puts it. Points and seeds
already tested are only read, so a search that stopped resumes where it stopped. The paper
varied P from 2 to 12 (20 on ImageNet) and found M=3 or 4 best (Section III-D); M counts stages
from 1 here (the Cityscapes rows' M=2, counted from 0, is after_stage=3).
"""
from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from mmsr.analysis.seed_runs import (SeedRuns, chosen_protocol, config_and_baseline,
                                     options_dict, paper_form, run_tool_main, seed_run_parser)
from mmsr.analysis.sr_models import build_model
from mmsr.cli import exit_with, write_json
from mmsr.errors import ConfigError
from mmsr.utils.config import iter_dicts, load_config

TOOLS = Path(__file__).resolve().parents[1]
SR_KEYS = ('after_stage', 'num_memory_blocks', 'hidden_channels')


def parse_args(argv=None):
    parser = seed_run_parser(__doc__, 'WORK_DIR/<config name>/after<M>_P<P>_h<h>/seed_K')
    parser.add_argument('--after-stage', type=int, nargs='+', default=[3, 4], metavar='M',
                        help='where the block goes, counted from 1 (default: 3 4)')
    parser.add_argument('--num-memory-blocks', type=int, nargs='+', default=[2, 4, 6, 8, 10, 12],
                        metavar='P', help='memory blocks (default: 2 4 6 8 10 12)')
    parser.add_argument('--hidden-channels', type=int, nargs='+', metavar='h',
                        help="hidden width of the FCN (default: the config's)")
    return parser.parse_args(argv)


def sr_cfg_key(cfg) -> Tuple[str, dict]:
    """``(dotted key, sr_cfg)`` of the config's one SR block."""
    found = [(f'{key}.sr_cfg', node['sr_cfg']) for key, node in iter_dicts(cfg.model, 'model')
             if isinstance(node.get('sr_cfg'), dict)]
    if not found:
        raise ConfigError(f'{cfg.filename} has no sr_cfg: the search varies the SR block of an '
                          'SR config.')
    if len(found) > 1:
        raise ConfigError(f'{cfg.filename} has {len(found)} sr_cfg '
                          f'({", ".join(key for key, _ in found)}); the search varies one.')
    return found[0]


def grid(args, cfg) -> List[Dict[str, int]]:
    """The points, each stage checked to build (a stage the backbone lacks fails here, not
    after the first points have trained)."""
    key, sr_cfg = sr_cfg_key(cfg)
    hidden = args.hidden_channels or [sr_cfg.get('hidden_channels', 16)]
    if 'memory_size' in sr_cfg and set(args.after_stage) != {sr_cfg['after_stage']}:
        raise ConfigError(f'{key} gives memory_size, which holds for one stage only; give '
                          'input_size instead (the training input size) to vary after_stage.')
    points = [dict(zip(SR_KEYS, values)) for values in
              itertools.product(args.after_stage, args.num_memory_blocks, hidden)]
    for after_stage in args.after_stage:
        point = copy.deepcopy(cfg)
        point.merge_from_dict({f'{key}.after_stage': after_stage})
        try:
            build_model(point)
        except ConfigError as error:
            raise ConfigError(f'--after-stage {after_stage}: {error}') from None
    return points


def point_name(point: Dict[str, int]) -> str:
    return 'after{after_stage}_P{num_memory_blocks}_h{hidden_channels}'.format(**point)


def format_table(baseline: Optional[dict], points: List[dict], seeds: List[int]) -> str:
    """One line per point, the baseline first; ``*`` marks the best mean."""
    metric = points[0]['metric']
    best = max(range(len(points)), key=lambda i: points[i]['mean'])
    lines = [f'{metric}, mean ± sample std over seeds {" ".join(map(str, seeds))} '
             f'({points[0]["protocol"]} test); * best mean',
             f'{"":2}{"after_stage":>11} {"P":>3} {"h":>3} {metric:>22} {"vs baseline":>12}'
             '   per seed']

    def line(mark: str, label: str, result: dict, gap: str) -> str:
        per_seed = ' '.join(f'{v:.2f}' for v in result['values'].values())
        return f'{mark:2}{label} {paper_form(result):>22} {gap:>12}   {per_seed}'

    if baseline is not None:
        lines.append(line('', f'{"baseline":>19}', baseline, '') +
                     f'   ({Path(baseline["config"]).name})')
    for index, result in enumerate(points):
        gap = f'{result["mean"] - baseline["mean"]:+.2f}' if baseline is not None else ''
        label = (f'{result["after_stage"]:>11} {result["num_memory_blocks"]:>3} '
                 f'{result["hidden_channels"]:>3}')
        lines.append(line('*' if index == best else '', label, result, gap))
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)

    def run() -> int:
        config, baseline = config_and_baseline(args)
        protocol = chosen_protocol(args, config)
        cfg = load_config(str(config), options_dict(args.cfg_options))
        key, _ = sr_cfg_key(cfg)
        grid_points = grid(args, cfg)
        work_dir, metric, baseline_result = Path(args.work_dir), args.metric, None
        if baseline is not None:
            runs = SeedRuns(TOOLS, baseline, work_dir / baseline.stem, protocol,
                            args.cfg_options, args.gpus)
            baseline_result = runs.collect(args.seeds, args.run, metric)
            metric = baseline_result['metric']
        points = []
        for point in grid_points:
            options = [*args.cfg_options, *(f'{key}.{k}={v}' for k, v in point.items())]
            runs = SeedRuns(TOOLS, config, work_dir / config.stem / point_name(point), protocol,
                            options, args.gpus, label=f'{config.stem} {point_name(point)}')
            points.append(dict(point, **runs.collect(args.seeds, args.run, metric)))
            metric = points[-1]['metric']
        print(format_table(baseline_result, points, args.seeds))
        write_json(args.json, dict(baseline=baseline_result, points=points))
        return 0

    return run_tool_main('sr_grid_search.py', run)


if __name__ == '__main__':
    exit_with(main())
