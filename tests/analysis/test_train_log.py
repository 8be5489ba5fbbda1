"""train_time.py: median s/iter after the warm-up and peak memory, from mmengine's scalars.json
files (one per start of a resumed run), as ratios to the first work dir."""
import json
import os
import subprocess
import sys

import pytest

from mmsr.analysis.train_log import train_speed
from mmsr.errors import DataNotFoundError
from tool_runs import REPO


def write_run(work_dir, starts):
    """``starts``: per start of the run, a list of (step, time, memory)."""
    for index, records in enumerate(starts):
        folder = work_dir / f'2026112{index}_000000' / 'vis_data'
        folder.mkdir(parents=True)
        lines = [json.dumps(dict(lr=0.01, data_time=0.01, loss=1.0, time=t, memory=m, step=s))
                 for s, t, m in records]
        lines.append(json.dumps(dict(mIoU=1.0, step=records[-1][0])))  # a validation record
        (folder / 'scalars.json').write_text('\n'.join(lines) + '\n')


def test_median_after_the_warm_up_over_every_start(tmp_path):
    # Steps 1-2 are the warm-up: slow, and cuDNN's search allocated 999 MiB.
    write_run(tmp_path / 'base', [[(s, 9.0 if s <= 2 else 0.5 + s / 100,
                                    999 if s <= 2 else 100 + s) for s in range(1, 8)]])
    # Resumed at step 4: steps 1-4, then 5-8; the second start re-logs nothing twice.
    write_run(tmp_path / 'sr', [[(s, 9.0 if s <= 2 else 0.6, 120) for s in range(1, 5)],
                                [(s, 0.7, 130) for s in range(5, 9)]])
    base = train_speed(tmp_path / 'base', skip=2)
    assert base['iterations'] == 5 and base['s_per_iter'] == pytest.approx(0.55)
    assert base['peak_memory_mib'] == 107
    sr = train_speed(tmp_path / 'sr', skip=2)
    assert sr['iterations'] == 6 and sr['s_per_iter'] == pytest.approx(0.7)
    out = subprocess.run([sys.executable, REPO / 'tools' / 'analysis_tools' / 'train_time.py',
                          tmp_path / 'base', tmp_path / 'sr', '--skip', '2', '--json',
                          tmp_path / 'r.json'], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert out.returncode == 0, out.stderr
    rows = json.loads((tmp_path / 'r.json').read_text())
    assert rows[1]['s_per_iter_ratio'] == pytest.approx(0.7 / 0.55)
    assert rows[1]['peak_memory_ratio'] == pytest.approx(130 / 107)
    assert '(1.2727x)' in out.stdout


def test_errors_say_what_to_pass(tmp_path):
    with pytest.raises(DataNotFoundError, match='--work-dir of a finished training run'):
        train_speed(tmp_path)
    write_run(tmp_path / 'short', [[(1, 0.5, 1), (2, 0.5, 1)]])
    with pytest.raises(DataNotFoundError, match='smaller --skip'):
        train_speed(tmp_path / 'short', skip=2)
