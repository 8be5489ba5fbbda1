"""tools/analysis_tools/sr_grid_search.py end to end on generated ImageNet-layout data: a 2x2
grid of after_stage x num_memory_blocks, one seed, each point trained and tested with the repo's
tools; a second call reads the points the first one finished; the table beside a baseline."""
import json
import re
import runpy
import shutil
from pathlib import Path

import pytest
import torch

from mmsr.datasets import make_imagenet_layout
from tool_runs import REPO, loader_options

TOOL = REPO / 'tools' / 'analysis_tools' / 'sr_grid_search.py'
CONFIGS = REPO / 'tests' / 'data' / 'configs'
SR = CONFIGS / 'tiny_resnet18_sr_imagenet.py'
BASELINE = CONFIGS / 'tiny_resnet18_imagenet.py'
# ResNet18 at 32x32: layer3 gives 256 x 2 x 2, layer4 512 x 1 x 1
STAGE_SHAPES = {3: (256, 2, 2), 4: (512, 1, 1)}


def logged_top1(test_dir: Path) -> float:
    """The top-1 the test printed in its own log (not the JSON the tool reads)."""
    (log, ) = test_dir.glob('*/*.log')
    return float(re.findall(r'accuracy/top1: ([\d.]+)', log.read_text())[-1])


def search(argv, capfd) -> str:
    """The tool run in this process (its trainings and tests are subprocesses); its output."""
    assert runpy.run_path(str(TOOL))['main']([str(arg) for arg in argv]) == 0
    return capfd.readouterr().out


def test_two_by_two_grid_beside_the_baseline(tmp_path, capfd):
    root = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=2,
                                val_per_class=1)
    work = tmp_path / 'search'
    args = [SR, '--work-dir', work, '--seeds', '0', '--num-memory-blocks', '2', '3',
            '--cfg-options', *loader_options(root)]
    # One row of the grid first, then the whole 2x2 grid: the first row's points are only read.
    first = search([*args, '--no-baseline', '--run', '--after-stage', '3'], capfd)
    assert first.count('training into') == 2
    out = search([*args, '--no-baseline', '--run', '--after-stage', '3', '4', '--json',
                  tmp_path / 'search.json'], capfd)
    assert out.count('training into') == 2 and 'after3' not in out.split('mean ± sample')[0]
    points = json.loads((tmp_path / 'search.json').read_text())['points']
    assert [(p['after_stage'], p['num_memory_blocks'], p['hidden_channels']) for p in points] == [
        (3, 2, 16), (3, 3, 16), (4, 2, 16), (4, 3, 16)]
    for point in points:
        run_dir = work / SR.stem / f'after{point["after_stage"]}_P{point["num_memory_blocks"]}_h16'
        # each point trained its own block: the memory has the point's P and stage's shape
        memory = torch.load(run_dir / 'seed_0' / 'epoch_1.pth', map_location='cpu',
                            weights_only=False)['state_dict'][
                                f'backbone.layer{point["after_stage"]}.sr_block.memory']
        assert tuple(memory.shape) == (point['num_memory_blocks'],
                                       *STAGE_SHAPES[point['after_stage']])
        assert point['values'] == {'0': pytest.approx(logged_top1(run_dir / 'seed_0' / 'test'),
                                                      abs=1e-4)}
    # The baseline is read from where multi_seed.py puts its runs (here: a copied test result)
    # and printed first; each point's gap to it, the best point marked.
    shutil.copytree(work / SR.stem / 'after4_P3_h16' / 'seed_0' / 'test',
                    work / BASELINE.stem / 'seed_0' / 'test')
    out = search([*args, '--baseline', BASELINE, '--after-stage', '3', '4'], capfd)
    lines = out[out.index('accuracy/top1, mean ± sample std over seeds 0'):].splitlines()
    assert re.match(r' +baseline +' + re.escape(f'{points[3]["mean"]:.2f}%'), lines[2])
    assert lines[2].endswith(f'({BASELINE.name})')
    best = max(range(4), key=lambda i: points[i]['mean'])
    for index, point in enumerate(points):
        gap = point['mean'] - points[3]['mean']
        expected = (rf'{"[*]" if index == best else " "} +{point["after_stage"]} +'
                    rf'{point["num_memory_blocks"]} +16 +'
                    + re.escape(f'{point["mean"]:.2f}% (one seed: no std)') + ' +'
                    + re.escape(f'{gap:+.2f}') + ' ')
        assert re.match(expected, lines[3 + index]), lines[3 + index]


def test_bad_grid_is_refused_before_training(tmp_path, capfd):
    argv = [SR, '--no-baseline', '--work-dir', tmp_path, '--after-stage', '3', '5',
            '--num-memory-blocks', '2', '--run']
    assert runpy.run_path(str(TOOL))['main']([str(arg) for arg in argv]) == 2
    assert capfd.readouterr().err.startswith('sr_grid_search.py: error: --after-stage 5: ')
    assert not any(tmp_path.iterdir())
