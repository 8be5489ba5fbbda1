#!/usr/bin/env python
"""Train and test a config with several seeds and report the metric's mean ± std in the paper's
form ("76.96% ± 0.24%"; the paper uses 5 seeds on CIFAR and Cityscapes, 4 on ImageNet), for the
SR config and its baseline side by side, tested as the paper tested the row.

    # train and test seeds 0-4 of the SR config and of its baseline, then report
    python tools/analysis_tools/multi_seed.py configs/cifar100/resnet18-d2d-sr_1xb128_cifar100.py \
        --work-dir work_dirs/seeds --seeds 0 1 2 3 4 --run
    # only report what work_dirs/seeds/<config name>/seed_K already holds
    python tools/analysis_tools/multi_seed.py configs/cifar100/resnet18-d2d-sr_1xb128_cifar100.py \
        --work-dir work_dirs/seeds --seeds 0 1 2 3 4

The baseline of a shipped config is the one ``configs/paper_rows.csv`` names (``--baseline``
gives another, ``--no-baseline`` none). Both are tested with the row's protocol from that file
(``test_protocol``): multi-scale flip (``tools/test.py --tta``) for the Cityscapes rows, as the
paper tested them, single-scale for the others; ``--single-scale`` or ``--tta`` chooses. Seed K
of a config trains into ``WORK_DIR/<config name>/seed_K`` and tests into ``seed_K/test``
(single-scale) or ``seed_K/test_tta``; see :mod:`mmsr.analysis.seed_runs`. A seed whose test
result exists is not run again; an interrupted training resumes.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

from mmsr.analysis.seed_runs import (SeedRuns, chosen_protocol, config_and_baseline, paper_form,
                                     run_tool_main, seed_run_parser)
from mmsr.cli import exit_with, write_json

TOOLS = Path(__file__).resolve().parents[1]


def format_results(results: List[dict], seeds: List[int]) -> str:
    metric = results[0]['metric']
    width = max(len(Path(r['config']).name) for r in results) + 2
    lines = [f'{metric}, mean ± sample std over seeds {" ".join(map(str, seeds))} '
             f'({results[0]["protocol"]} test)',
             f'{"config":<{width}}{metric:>20}   per seed']
    for result in results:
        per_seed = ' '.join(f'{v:.2f}' for v in result['values'].values())
        lines.append(f'{Path(result["config"]).name:<{width}}{paper_form(result):>20}   '
                     f'{per_seed}')
    if len(results) == 2:
        gap = results[1]['mean'] - results[0]['mean']
        lines.append(f'{Path(results[1]["config"]).name} - {Path(results[0]["config"]).name}: '
                     f'{gap:+.2f} points')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = seed_run_parser(__doc__, 'WORK_DIR/<config name>/seed_K').parse_args(argv)

    def run() -> int:
        config, baseline = config_and_baseline(args)
        protocol = chosen_protocol(args, config)
        results, metric = [], args.metric
        for path in [baseline, config] if baseline else [config]:
            runs = SeedRuns(TOOLS, path, Path(args.work_dir) / path.stem, protocol,
                            args.cfg_options, args.gpus)
            results.append(runs.collect(args.seeds, args.run, metric))
            metric = results[-1]['metric']
        print(format_results(results, args.seeds))
        write_json(args.json, results)
        return 0

    return run_tool_main('multi_seed.py', run)


if __name__ == '__main__':
    exit_with(main())
