"""Training and testing a config over seeds with the repo's tools, and reading the results back:
what ``tools/analysis_tools/multi_seed.py`` and ``sr_grid_search.py`` share.

Seed K of a config runs ``tools/train.py CONFIG --work-dir ROOT/seed_K --cfg-options
randomness.seed=K ...`` (``dist_train.sh`` on several GPUs), then ``tools/test.py`` on its
best-on-val checkpoint (CIFAR) or its last one, into ``seed_K/test`` (single-scale) or
``seed_K/test_tta`` (multi-scale flip: ``tools/test.py --tta``). The metric is read from the
JSON file mmengine writes for that test. A seed whose test result exists is not run again; an
interrupted training resumes. The std is the sample standard deviation (n - 1).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import DictAction

from ..cli import run_cli, tool_parser
from ..errors import ConfigError
from ..utils.config import load_config
from .paper_rows import baseline_file, paper_row_of

DEFAULT_METRICS = ('accuracy/top1', 'mIoU')
SINGLE_SCALE, MULTI_SCALE_FLIP = 'single-scale', 'multi-scale flip'
#: test protocol -> (folder of its results in seed_K, extra tools/test.py arguments)
PROTOCOLS = {SINGLE_SCALE: ('test', []), MULTI_SCALE_FLIP: ('test_tta', ['--tta'])}


def paper_protocol(config: Path) -> str:
    """The test protocol of the paper row ``configs/paper_rows.csv`` gives the config;
    single-scale for a config that is not there."""
    row = paper_row_of(str(config))
    return row.test_protocol if row is not None else SINGLE_SCALE


def seed_run_parser(doc: str, runs_under: str) -> argparse.ArgumentParser:
    """The command line both tools share: the config, where its runs go (``runs_under``
    says where), seeds, ``--run``, the baseline, the test protocol (by default the paper
    row's), the metric, GPUs and ``--cfg-options`` for every run."""
    parser = tool_parser(doc, config=None)
    parser.add_argument('config', help='the SR config (multi_seed.py: any config)')
    parser.add_argument('--work-dir', required=True, help=f'runs go to {runs_under}')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument('--run', action='store_true',
                        help='train and test what has no test result yet')
    baseline = parser.add_mutually_exclusive_group()
    baseline.add_argument('--baseline', help='the baseline config (default: from '
                          'configs/paper_rows.csv for a shipped config)')
    baseline.add_argument('--no-baseline', action='store_true', help='no baseline')
    protocol = parser.add_mutually_exclusive_group()
    protocol.add_argument('--single-scale', action='store_true',
                          help='test single-scale, also a row the paper tested multi-scale flip')
    protocol.add_argument('--tta', action='store_true',
                          help='test multi-scale flip (tools/test.py --tta), also a config the '
                          'paper did not test so')
    parser.add_argument('--metric', help='metric key (default: accuracy/top1 or mIoU, whichever '
                        'the test reports)')
    parser.add_argument('--gpus', type=int, default=1,
                        help='GPUs per run; more than 1 runs tools/dist_train.sh / dist_test.sh')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='passed to every training and test run')
    return parser


def options_dict(options: Sequence[str]) -> dict:
    """``KEY=VALUE`` strings (the ``--cfg-options`` every run gets) as the dict
    :func:`~mmsr.utils.config.load_config` applies, parsed as the upstream tools parse them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(['--cfg-options', *options] if options else []).cfg_options


def config_and_baseline(args: argparse.Namespace) -> Tuple[Path, Optional[Path]]:
    """The config of a :func:`seed_run_parser` command line and its baseline (``None`` with
    ``--no-baseline``), both checked to exist."""
    config = Path(args.config)
    if not config.is_file():
        raise ConfigError(f'config file {args.config!r} does not exist.')
    if args.no_baseline:
        return config, None
    baseline = Path(args.baseline) if args.baseline else baseline_file(str(config))
    if baseline is None:
        raise ConfigError(f'{config.name} has no baseline in configs/paper_rows.csv: pass '
                          '--baseline CONFIG or --no-baseline.')
    if not baseline.is_file():
        raise ConfigError(f'baseline config {str(baseline)!r} does not exist.')
    return config, baseline


def chosen_protocol(args: argparse.Namespace, config: Path) -> str:
    """The test protocol a :func:`seed_run_parser` command line chose for ``config`` (and
    its baseline, tested the same way); multi-scale flip needs the config's ``tta_pipeline``
    and ``tta_model``."""
    if args.single_scale:
        return SINGLE_SCALE
    protocol = MULTI_SCALE_FLIP if args.tta else paper_protocol(config)
    if protocol == MULTI_SCALE_FLIP:
        cfg = load_config(str(config), options_dict(args.cfg_options))
        if cfg.get('tta_pipeline') is None or cfg.get('tta_model') is None:
            raise ConfigError(f'{config.name} has no tta_pipeline / tta_model, so it cannot '
                              'be tested multi-scale flip (test.py --tta); pass '
                              '--single-scale.')
    return protocol


def tool_command(tools: Path, name: str, positional: Sequence[str], gpus: int) -> List[str]:
    """``python tools/NAME.py ARGS`` or, on several GPUs, ``bash tools/dist_NAME.sh ARGS N``."""
    if gpus > 1:
        return ['bash', str(tools / f'dist_{name}.sh'), *positional, str(gpus)]
    return [sys.executable, str(tools / f'{name}.py'), *positional]


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


def pick_metric(results: dict, metric: Optional[str], where: Path) -> str:
    """``metric`` if the test reported it, else the first of :data:`DEFAULT_METRICS` it did."""
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


def paper_form(result: dict) -> str:
    """``76.96% ± 0.24%``, the way the paper prints a multi-seed result."""
    if result['std'] is None:
        return f'{result["mean"]:.2f}% (one seed: no std)'
    return f'{result["mean"]:.2f}% ± {result["std"]:.2f}%'


@dataclass
class SeedRuns:
    """The runs of one config over seeds, in ``root/seed_K``, each trained with the same
    ``--cfg-options`` (``options``, ``KEY=VALUE`` strings) and tested with ``protocol``, by the
    repo's ``tools/train.py`` and ``test.py`` (in ``tools``)."""

    tools: Path
    config: Path
    root: Path
    protocol: str = SINGLE_SCALE
    options: Sequence[str] = ()
    gpus: int = 1
    label: str = ''

    def run_dir(self, seed: int) -> Path:
        return self.root / f'seed_{seed}'

    def test_dir(self, seed: int) -> Path:
        return self.run_dir(seed) / PROTOCOLS[self.protocol][0]

    def tested(self, seed: int) -> Optional[dict]:
        """The metrics of the seed's newest test (mmengine's ``<timestamp>.json``)."""
        for path in reversed(sorted(self.test_dir(seed).glob('*/*.json'))):
            lines = [line for line in path.read_text().splitlines() if line.strip()]
            if lines:
                return json.loads(lines[-1])
        return None

    def run(self, seed: int) -> None:
        """Train (resuming an interrupted training) and test one seed."""
        run_dir, name = self.run_dir(seed), f'[{self.label or self.config.stem} seed {seed}]'
        options = ['--cfg-options', f'randomness.seed={seed}', *self.options]
        resume = ['--resume'] if (run_dir / 'last_checkpoint').is_file() else []
        print(f'{name} training into {run_dir}', flush=True)
        subprocess.run([*tool_command(self.tools, 'train', [str(self.config)], self.gpus),
                        '--work-dir', str(run_dir), *resume, *options], check=True)
        checkpoint = checkpoint_to_test(run_dir)
        print(f'{name} testing {checkpoint.name} ({self.protocol})', flush=True)
        subprocess.run([*tool_command(self.tools, 'test', [str(self.config), str(checkpoint)],
                                      self.gpus), '--work-dir', str(self.test_dir(seed)),
                        *PROTOCOLS[self.protocol][1], *options], check=True)

    def collect(self, seeds: Sequence[int], run: bool, metric: Optional[str] = None
                ) -> Dict[str, object]:
        """Each seed's metric (running the untested seeds if ``run``), their mean and std."""
        values: Dict[int, float] = {}
        for seed in seeds:
            results = self.tested(seed)
            if results is None and run:
                self.run(seed)
                results = self.tested(seed)
            if results is None:
                test = ' '.join(['tools/test.py', *PROTOCOLS[self.protocol][1]])
                raise ConfigError(
                    f'no test result for seed {seed} of {self.config.name} ({self.protocol} '
                    f'test) in {self.run_dir(seed)}: add --run to train and test it, or run '
                    f'{test} with --work-dir {self.test_dir(seed)}.')
            metric = pick_metric(results, metric, self.run_dir(seed))
            values[seed] = float(results[metric])
        numbers = list(values.values())
        return dict(config=str(self.config), protocol=self.protocol, metric=metric,
                    values=values, mean=statistics.mean(numbers),
                    std=statistics.stdev(numbers) if len(numbers) > 1 else None)


def run_tool_main(prog: str, main) -> int:
    """:func:`mmsr.cli.run_cli`, and a failed training or test reported as one line after
    its own output."""
    try:
        return run_cli(prog, main)
    except subprocess.CalledProcessError as error:
        print(f'{prog}: error: {" ".join(error.cmd[:3])} ... exited with status '
              f'{error.returncode} (its output is above).', file=sys.stderr)
        return 1
