"""``mmsr.cli.exit_with``, how the tools end when run as programs: the exit status given, the
``atexit`` handlers run, and every object alive at the end frozen first (``gc.freeze``), which
the interpreter's exit then does not walk."""
import os
import re
import subprocess
import sys

from tool_runs import REPO, with_repo_path

PROGRAM = '''
import atexit, gc
import mmsr
from mmsr.cli import exit_with
atexit.register(lambda: print('atexit ran; frozen:', gc.get_freeze_count()))
exit_with(3)
'''


def test_exit_status_given_atexit_handlers_run_everything_frozen():
    result = subprocess.run([sys.executable, '-c', PROGRAM], cwd=REPO, capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, 'PYTHONPATH': with_repo_path()})
    assert result.returncode == 3, result.stderr[-3000:]
    frozen = int(re.search(r'atexit ran; frozen: (\d+)', result.stdout)[1])
    # what importing mmsr (torch, mmengine, the codebases) left alive: far more than 10,000
    assert frozen > 10_000
