"""tools/analysis_tools/multi_seed.py: N seeds of a config and its baseline trained and tested
with the repo's tools on generated ImageNet-layout data, reported as mean ± std."""
import json
import re
import runpy
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmsr.datasets import make_imagenet_layout

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'analysis_tools' / 'multi_seed.py'
CONFIGS = REPO / 'tests' / 'data' / 'configs'
SR = CONFIGS / 'tiny_resnet18_sr_imagenet.py'
BASELINE = CONFIGS / 'tiny_resnet18_imagenet.py'


def run(*args, expect_rc=0):
    result = subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True,
                            text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == expect_rc, output[-4000:]
    return result.stdout, result.stderr


def logged_top1(run_dir: Path) -> float:
    """The top-1 the test printed in its own log (not the JSON the tool reads)."""
    (log, ) = (run_dir / 'test').glob('*/*.log')
    return float(re.findall(r'accuracy/top1: ([\d.]+)', log.read_text())[-1])


def test_two_seeds_of_sr_and_baseline(tmp_path):
    root = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=4,
                                val_per_class=4)
    work = tmp_path / 'seeds'
    options = ['--cfg-options'] + [f'{loader}.dataset.data_root={root}' for loader in
                                   ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    out, _ = run(SR, '--baseline', BASELINE, '--work-dir', work, '--seeds', '0', '1', '--run',
                 '--json', tmp_path / 'seeds.json', *options)
    results = json.loads((tmp_path / 'seeds.json').read_text())
    assert [Path(r['config']).name for r in results] == [BASELINE.name, SR.name]
    for result, config in zip(results, (BASELINE, SR)):
        seeds = [work / config.stem / f'seed_{k}' for k in (0, 1)]
        logged = [logged_top1(d) for d in seeds]
        # the log prints 4 decimals, the JSON the tool reads full precision
        assert list(result['values'].values()) == pytest.approx(logged, abs=1e-4)
        assert result['mean'] == pytest.approx(statistics.mean(logged), abs=1e-4)
        assert result['std'] == pytest.approx(statistics.stdev(logged), abs=1e-4)
        assert f'{result["mean"]:.2f}% ± {result["std"]:.2f}%' in out
        # the seed reaches training: the two runs' weights differ
        weights = [torch.load(d / 'epoch_1.pth', map_location='cpu', weights_only=False)
                   ['state_dict']['backbone.conv1.weight'] for d in seeds]
        assert not torch.equal(*weights)
    assert f'{SR.name} - {BASELINE.name}: {results[1]["mean"] - results[0]["mean"]:+.2f}' in out
    # Collecting again reads the same runs without training: only the report is printed.
    again, _ = run(SR, '--baseline', BASELINE, '--work-dir', work, '--seeds', '0', '1')
    assert again == out[out.index('accuracy/top1, mean ± sample std'):]
    # A seed that was never run is named, with what to do.
    _, err = run(SR, '--baseline', BASELINE, '--work-dir', work, '--seeds', '0', '2',
                 expect_rc=2)
    assert err.startswith('multi_seed.py: error: no test result for seed 2 of') and '--run' in err


def test_baseline_comes_from_the_paper_rows(tmp_path):
    _, err = run(REPO / 'configs' / 'cifar100' / 'resnet18-d2d-sr_1xb128_cifar100.py',
                 '--work-dir', tmp_path, '--seeds', '0', expect_rc=2)
    # the baseline is reported first, so its missing run is the one named
    assert 'no test result for seed 0 of resnet18-d2d_1xb128_cifar100.py' in err
    _, err = run(SR, '--work-dir', tmp_path, expect_rc=2)
    assert 'has no baseline in configs/paper_rows.csv' in err


def test_cityscapes_rows_are_tested_as_the_paper_tested_them(tmp_path, monkeypatch, capfd):
    """A Table IV row and its baseline are tested multi-scale flip (tools/test.py --tta) into
    seed_K/test_tta; --single-scale tests them without --tta into seed_K/test. The trainings and
    tests are recorded here instead of run (each writes what the real tool would)."""
    from mmsr.analysis import seed_runs
    calls = []

    def record(command, check):
        calls.append(command)
        work = Path(command[command.index('--work-dir') + 1])
        if command[1].endswith('train.py'):
            work.mkdir(parents=True, exist_ok=True)
            (work / 'last_checkpoint').write_text(str(work / 'iter_80000.pth'))
        else:
            (work / 'stamp').mkdir(parents=True)
            (work / 'stamp' / 'stamp.json').write_text(json.dumps({'mIoU': 70.0}))

    monkeypatch.setattr(seed_runs.subprocess, 'run', record)
    main = runpy.run_path(str(TOOL))['main']
    argv = [str(REPO / 'configs' / 'deeplabv3_r50_sr_cityscapes.py'), '--work-dir',
            str(tmp_path), '--seeds', '0', '--run']
    for extra, flag, folder in (([], ['--tta'], 'test_tta'), (['--single-scale'], [], 'test')):
        calls.clear()
        assert main(argv + extra) == 0
        tests = [command for command in calls if command[1].endswith('test.py')]
        assert [command[2] for command in tests] == [
            str(REPO / 'configs' / name) for name in ('deeplabv3_r50_cityscapes.py',
                                                      'deeplabv3_r50_sr_cityscapes.py')]
        for command in tests:
            assert [arg for arg in command if arg == '--tta'] == flag
            assert Path(command[command.index('--work-dir') + 1]).name == folder
        protocol = 'single-scale' if flag == [] else 'multi-scale flip'
        assert f'({protocol} test)' in capfd.readouterr().out
