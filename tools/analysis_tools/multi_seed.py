#!/usr/bin/env python
"""Train and test a config with several seeds and report the metric's mean ± std in the paper's
form ("76.96% ± 0.24%"; the paper uses 5 seeds on CIFAR and Cityscapes, 4 on ImageNet), for the
SR config and its baseline side by side.

    # train and test seeds 0-4 of the SR config and of its baseline, then report
    python tools/analysis_tools/multi_seed.py configs/cifar100/resnet18-d2d-sr_1xb128_cifar100.py \
        --work-dir work_dirs/seeds --seeds 0 1 2 3 4 --run
    # only report what work_dirs/seeds/<config name>/seed_K already holds
    python tools/analysis_tools/multi_seed.py configs/cifar100/resnet18-d2d-sr_1xb128_cifar100.py \
        --work-dir work_dirs/seeds --seeds 0 1 2 3 4

The baseline of a shipped config is the one ``configs/paper_rows.csv`` names (``--baseline``
gives another, ``--no-baseline`` none). Seed K of a config runs ``tools/train.py CONFIG
--work-dir WORK_DIR/<config name>/seed_K --cfg-options randomness.seed=K`` (``dist_train.sh``
with ``--gpus N``), then ``tools/test.py`` on its best-on-val checkpoint (CIFAR) or its last one,
into ``seed_K/test``. The metric is read from the JSON file mmengine writes for that test. A seed
whose test result exists is not run again; an interrupted training resumes. The std is the sample
standard deviation (n - 1).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

from mmsr.analysis.paper_rows import baseline_file
from mmsr.cli import run_cli, tool_parser, write_json
from mmsr.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools'
DEFAULT_METRICS = ('accuracy/top1', 'mIoU')


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__, config=None)
    parser.add_argument('config', help='the SR config (or any config)')
    parser.add_argument('--work-dir', required=True,
                        help='runs go to WORK_DIR/<config name>/seed_K')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument('--run', action='store_true',
                        help='train and test the seeds that have no test result yet')
    baseline = parser.add_mutually_exclusive_group()
    baseline.add_argument('--baseline', help='the baseline config (default: from '
                          'configs/paper_rows.csv for a shipped config)')
    baseline.add_argument('--no-baseline', action='store_true', help='report the config alone')
    parser.add_argument('--metric', help='metric key (default: accuracy/top1 or mIoU, whichever '
                        'the test reports)')
    parser.add_argument('--gpus', type=int, default=1,
                        help='GPUs per run; more than 1 runs tools/dist_train.sh / dist_test.sh')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='passed to every training and test run')
    return parser.parse_args(argv)


def seed_dir(work_dir: Path, config: Path, seed: int) -> Path:
    return work_dir / config.stem / f'seed_{seed}'


def tested_metrics(run_dir: Path) -> Optional[dict]:
    """The metrics of the newest test in ``run_dir/test`` (mmengine's ``<timestamp>.json``)."""
    files = sorted((run_dir / 'test').glob('*/*.json'))
    for path in reversed(files):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        if lines:
            return json.loads(lines[-1])
    return None


def checkpoint_to_test(run_dir: Path) -> Path:
    """The best-on-val checkpoint if the config keeps one, else the last checkpoint."""
    best = sorted(run_dir.glob('best_*.pth'), key=lambda p: p.stat().st_mtime)
    if best:
        return best[-1]
    last = run_dir / 'last_checkpoint'
    if last.is_file():
        return Path(last.read_text().strip())
    raise ConfigError(f'training in {run_dir} saved no checkpoint (no best_*.pth, no '
                      'last_checkpoint); check its log.')


def tool_command(name: str, positional: List[str], gpus: int) -> List[str]:
    """``python tools/NAME.py ARGS`` or, on several GPUs, ``bash tools/dist_NAME.sh ARGS N``."""
    if gpus > 1:
        return ['bash', str(TOOLS / f'dist_{name}.sh'), *positional, str(gpus)]
    return [sys.executable, str(TOOLS / f'{name}.py'), *positional]


def run_seed(config: Path, seed: int, run_dir: Path, args: argparse.Namespace) -> None:
    options = ['--cfg-options', f'randomness.seed={seed}', *args.cfg_options]
    resume = ['--resume'] if (run_dir / 'last_checkpoint').is_file() else []
    print(f'[{config.stem} seed {seed}] training into {run_dir}', flush=True)
    subprocess.run([*tool_command('train', [str(config)], args.gpus), '--work-dir',
                    str(run_dir), *resume, *options], check=True)
    checkpoint = checkpoint_to_test(run_dir)
    print(f'[{config.stem} seed {seed}] testing {checkpoint.name}', flush=True)
    subprocess.run([*tool_command('test', [str(config), str(checkpoint)], args.gpus),
                    '--work-dir', str(run_dir / 'test'), *options], check=True)


def pick_metric(results: dict, metric: Optional[str], where: Path) -> str:
    if metric:
        if metric not in results:
            raise ConfigError(f'{where}: the test reported {sorted(results)}, not {metric!r}; '
                              'pass one of those with --metric.')
        return metric
    for key in DEFAULT_METRICS:
        if key in results:
            return key
    raise ConfigError(f'{where}: the test reported {sorted(results)}; choose the metric with '
                      '--metric.')


def collect(config: Path, args: argparse.Namespace) -> Dict[str, object]:
    work_dir = Path(args.work_dir)
    values, metric = {}, args.metric
    for seed in args.seeds:
        run_dir = seed_dir(work_dir, config, seed)
        results = tested_metrics(run_dir)
        if results is None and args.run:
            run_seed(config, seed, run_dir, args)
            results = tested_metrics(run_dir)
        if results is None:
            raise ConfigError(f'no test result for seed {seed} of {config.name} in {run_dir}: '
                              'add --run to train and test it, or run tools/test.py with '
                              f'--work-dir {run_dir / "test"}.')
        metric = pick_metric(results, metric, run_dir)
        values[seed] = float(results[metric])
    numbers = list(values.values())
    return dict(config=str(config), metric=metric, values=values,
                mean=statistics.mean(numbers),
                std=statistics.stdev(numbers) if len(numbers) > 1 else None)


def paper_form(result: dict) -> str:
    """``76.96% ± 0.24%``, the way the paper prints a multi-seed result."""
    if result['std'] is None:
        return f'{result["mean"]:.2f}% (one seed: no std)'
    return f'{result["mean"]:.2f}% ± {result["std"]:.2f}%'


def format_results(results: List[dict], seeds: List[int]) -> str:
    metric = results[0]['metric']
    width = max(len(Path(r['config']).name) for r in results) + 2
    lines = [f'{metric}, mean ± sample std over seeds {" ".join(map(str, seeds))}',
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


def configs_to_report(args: argparse.Namespace) -> List[Path]:
    config = Path(args.config)
    if not config.is_file():
        raise ConfigError(f'config file {args.config!r} does not exist.')
    if args.no_baseline:
        return [config]
    baseline = Path(args.baseline) if args.baseline else baseline_file(str(config))
    if baseline is None:
        raise ConfigError(f'{config.name} has no baseline in configs/paper_rows.csv: pass '
                          '--baseline CONFIG or --no-baseline.')
    if not baseline.is_file():
        raise ConfigError(f'baseline config {str(baseline)!r} does not exist.')
    return [baseline, config]


def main(argv=None) -> int:
    args = parse_args(argv)

    def run() -> int:
        configs = configs_to_report(args)
        results = [collect(config, args) for config in configs]
        if len({r['metric'] for r in results}) > 1:
            raise ConfigError('the configs report different metrics; choose one with --metric.')
        print(format_results(results, args.seeds))
        write_json(args.json, results)
        return 0

    try:
        return run_cli('multi_seed.py', run)
    except subprocess.CalledProcessError as error:
        print(f'multi_seed.py: error: {" ".join(error.cmd[:3])} ... exited with status '
              f'{error.returncode} (its output is above).', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
