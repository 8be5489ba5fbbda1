"""Helpers of the install tests: commands run in other Python environments, what an environment
has installed, a new environment that sees this one's packages, and mmsr's wheel."""
import contextlib
import fcntl
import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[1]


def run(args, cwd, expect_rc=0):
    """``args`` without this environment's ``PYTHONPATH``: its output, after checking its exit
    status."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD')}
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == expect_rc, output[-4000:]
    return output


@contextlib.contextmanager
def building_from_the_repo():
    """Held while pip builds mmsr in the repository itself (its ``build/`` and
    ``mmsr.egg-info``): the test lanes of ``make test`` and their set-ups run at the same time.
    The lock is on ``setup.py``, as ``tools/setup_env.sh`` takes it (``flock``)."""
    with open(REPO / 'setup.py') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def new_venv(root: Path) -> Path:
    """``python`` of a new virtual environment in ``root / 'venv'``."""
    run([sys.executable, '-m', 'venv', root / 'venv'], cwd=root)
    return root / 'venv' / 'bin' / 'python'


def purelib(python: Path, cwd: Path) -> Path:
    """The site-packages folder of ``python``'s environment."""
    return Path(run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                    cwd=cwd).strip())


def site_packages() -> List[Path]:
    """This environment's site-packages folders (those that exist: Debian's Python also names
    ``dist-packages`` folders that a virtual environment does not have)."""
    return [Path(folder) for folder in site.getsitepackages() if os.path.isdir(folder)]


def new_existing_env(root: Path) -> Path:
    """``python`` of a new venv whose installed packages are this environment's (less mmsr)."""
    python = new_venv(root)
    (purelib(python, root) / 'existing_env.pth').write_text(
        ''.join(f'{folder}\n' for folder in site_packages()))
    return python


def installed(python, cwd):
    """``{name: version}`` of every distribution ``python``'s environment sees."""
    code = ('import importlib.metadata as md, json\n'
            'print(json.dumps({d.metadata["Name"].lower(): d.version for d in md.distributions()}'
            '))')
    return json.loads(run([python, '-c', code], cwd).strip().splitlines()[-1])


def build_wheel(out: Path) -> Path:
    """mmsr's wheel, built as ``pip install`` builds it, from a copy of the sources (so that no
    build folder of an earlier build is packaged, and none is left in the repository)."""
    source = out / 'source'
    shutil.copytree(REPO / 'mmsr', source / 'mmsr',
                    ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('setup.py', 'README.md'):
        shutil.copy(REPO / name, source / name)
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-w', out, source], cwd=out)
    (path, ) = out.glob('mmsr-*.whl')
    return path
