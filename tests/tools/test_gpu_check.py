"""tools/gpu_check.sh on a machine without a GPU: the GPU steps stop before any GPU work, each
with one line that says why (the dry run of docs/testing.md, "GPU checks")."""
import os
import subprocess
import sys

import pytest

from tool_runs import REPO


def gpu_check(step, tmp_path, **env):
    env = dict(os.environ, PYTHON=sys.executable, CUDA_VISIBLE_DEVICES='',
               MMSR_GPU_CARRY=str(tmp_path / 'carry'), MMSR_GPU_SITE=str(tmp_path / 'site'),
               **env)
    return subprocess.run(['bash', REPO / 'tools' / 'gpu_check.sh', step, tmp_path / 'out'],
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize('step', ['build', 'tests', 'measure'])
def test_without_the_carried_wheels_it_says_how_to_make_them(tmp_path, step):
    result = gpu_check(step, tmp_path)
    assert result.returncode == 2
    assert result.stdout.strip().splitlines() == [
        f"gpu_check: no wheels in {tmp_path / 'carry'}/wheels: run 'bash tools/gpu_check.sh "
        f"prepare' and carry {tmp_path / 'carry'}"]


@pytest.mark.parametrize('step', ['build', 'tests', 'measure'])
def test_without_cuda_it_stops_before_the_gpu_steps(tmp_path, step):
    (tmp_path / 'site' / 'mmengine').mkdir(parents=True)  # the carried packages, installed
    result = gpu_check(step, tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == [
        f"gpu_check: no CUDA device visible: stopping before the GPU steps (carried packages "
        f"in {tmp_path / 'site'})"]
    assert not (tmp_path / 'out').exists() or not any((tmp_path / 'out').iterdir())


def test_an_unknown_step_is_refused(tmp_path):
    result = gpu_check('bench', tmp_path)
    assert result.returncode == 2 and 'unknown step bench' in result.stderr
