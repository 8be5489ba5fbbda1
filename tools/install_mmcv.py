#!/usr/bin/env python
"""Build and install **full** mmcv (with its compiled ops) for the installed torch.

PyPI ships mmcv only as a source package, and its ``setup.py`` no longer builds against
current toolchains. This script makes the decisions a user would otherwise make by hand:

* **C++ standard** - torch's own headers say which standard they need (torch >= 2.10 refuses
  anything below C++20); mmcv hard-codes ``-std=c++14``/``-std=c++17``, so the unpacked
  source is patched to the standard torch asks for.
* **setuptools** - mmcv's ``setup.py`` imports ``pkg_resources``, which newer setuptools no
  longer ship, while torch 2.14 requires setuptools >= 77 (the usual advice, setuptools < 70,
  breaks torch's own requirement). The import is patched to its standard-library and
  ``packaging`` equivalents, so the build works with any setuptools, and runs without build
  isolation against the installed torch.
* **CPU or CUDA ops** - CUDA ops are built when ``nvcc`` is found *and* torch is a CUDA build
  *and* a GPU is visible (or ``MMSR_MMCV_CUDA=1`` forces it, e.g. on a GPU-less build box);
  otherwise CPU ops only (``MMSR_MMCV_CUDA=0`` forces that).
* **GPU architectures** - CUDA ops are compiled for the visible GPUs' compute capabilities only
  (``9.0`` on an H100; torch's default list would compile every op for every architecture,
  several times the build time), unless ``TORCH_CUDA_ARCH_LIST`` / ``--cuda-arch`` names them
  (needed on a build box without a GPU). All cores compile, through ninja.
* **Precompiled header** - every one of mmcv's ~80 C++ files starts by parsing torch's headers
  (about 11 of its 13 seconds each). For CPU ops the build compiles through a small wrapper
  (:data:`PCH_WRAPPER`) that precompiles mmcv's ``pytorch_cpp_helper.hpp`` (torch's headers)
  once, with the flags of the build itself, and includes it first in every file: the same
  objects, about half the build time on 2 cores. A file the precompiled header does not fit is
  compiled as without it (the compiler ignores a header built with other flags).
* **Compiler** - a missing C++ compiler (or ``nvcc`` when CUDA is forced) stops with a message
  that says what to install.
* **Reuse** - a built wheel is cached outside the repository, keyed by mmcv version, Python,
  torch version and CPU/CUDA flavour (``$MMSR_CACHE_DIR``, default ``~/.cache/mmsr``), so
  re-creating a virtual environment installs it in seconds.

Usage (inside the environment that has torch)::

    python tools/install_mmcv.py            # version from requirements/stack.txt ($MMSR_STACK)
    python tools/install_mmcv.py --version 2.1.0 --cuda auto --jobs 2
    python tools/install_mmcv.py --dry-run  # print the decisions only
    python tools/install_mmcv.py --source-only --cache-dir DIR   # fetch the source to carry
    python tools/install_mmcv.py --offline --cache-dir DIR --target SITE  # no package index

Only the standard library is used at module level, so the decision functions are unit-tested
without torch.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The pin file: requirements/stack.txt, or the stack of a test lane (MMSR_STACK, relative to the
# repository root), e.g. requirements/stack-torch2.1.txt.
STACK_FILE = REPO_ROOT / os.environ.get('MMSR_STACK', 'requirements/stack.txt')
BUILD_TOOLS = ('setuptools', 'packaging', 'wheel', 'ninja')
PKG_RESOURCES_IMPORT = 'from pkg_resources import DistributionNotFound, get_distribution, parse_version'
PKG_RESOURCES_REPLACEMENT = (
    'from importlib.metadata import PackageNotFoundError as DistributionNotFound\n'
    'from importlib.metadata import distribution as get_distribution\n'
    'from packaging.version import parse as parse_version')
DEFAULT_INDEX = 'https://pypi.org/simple'
KNOWN_SDIST_SHA256 = {
    '2.1.0': 'd387bcab66b467479b6660310e23746cfc79c6e57acf04094680adb499a5cd3f',
}
CXX20_MARKER = 'C++20 or later compatible compiler is required'


# mmcv's helper header that includes torch's headers; most of its C++ files include it first.
PCH_HEADER = 'mmcv/ops/csrc/common/pytorch_cpp_helper.hpp'
# The compiler wrapper of a CPU build (see the module docstring). Placeholders: the interpreter,
# the real compiler and the header. For a compile (``-c``) it builds ``<header>.gch`` once, under
# a lock, from the same flags less the dependency file, the source and the output, then compiles
# with ``-include <header>``; any other call (linking, ``-v``) goes to the compiler unchanged.
PCH_WRAPPER = """#!{python}
import fcntl, os, subprocess, sys
real, header = {cxx!r}, {header!r}
args = sys.argv[1:]
if '-c' not in args:
    os.execvp(real, [real] + args)
flags, skip = [], 0
for arg in args:
    if skip:
        skip -= 1
    elif arg in ('-MF', '-o'):
        skip = 1
    elif arg not in ('-c', '-MMD') and not arg.endswith(('.cpp', '.cc', '.cxx')):
        flags.append(arg)
gch = header + '.gch'
with open(gch + '.lock', 'w') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if not os.path.exists(gch):
        subprocess.run([real] + flags + ['-x', 'c++-header', header, '-o', gch + '.tmp'],
                       check=True)
        os.replace(gch + '.tmp', gch)
os.execvp(real, [real, '-include', header] + args)
"""


class InstallError(RuntimeError):
    """A problem the user can fix; printed without a traceback."""


@dataclass(frozen=True)
class BuildPlan:
    mmcv_version: str
    torch_version: str
    python_tag: str
    cuda: bool
    cuda_version: str | None
    cxx_std: str
    jobs: int
    cuda_arch: str | None = None

    @property
    def flavour(self) -> str:
        return f'cu{self.cuda_version.replace(".", "")}' if self.cuda else 'cpu'

    @property
    def cache_key(self) -> str:
        """Folder name under the cache that holds the wheel for exactly this build."""
        torch_ver = self.torch_version.split('+')[0]
        key = f'mmcv-{self.mmcv_version}-{self.python_tag}-torch{torch_ver}-{self.flavour}'
        if self.cuda and self.cuda_arch:
            archs = re.split(r'[;\s]+', self.cuda_arch.strip())
            key += '-' + '_'.join('sm' + re.sub(r'[^0-9a-z]', '', a.lower()) for a in archs)
        return key


def pinned_version(package: str, stack_file: Path = STACK_FILE) -> str:
    """Read ``package==X`` from the pin file."""
    pattern = re.compile(rf'^\s*{re.escape(package)}\s*==\s*([^\s#;]+)', re.IGNORECASE)
    for line in stack_file.read_text().splitlines():
        match = pattern.match(line)
        if match:
            return match.group(1)
    raise InstallError(f'{package} is not pinned in {stack_file}; add a line "{package}==X".')


def required_cxx_std(torch_include_dirs: list[str]) -> str:
    """The C++ standard torch's headers demand, read from their ``#error`` guard."""
    for inc in torch_include_dirs:
        for rel in ('ATen/ATen.h', 'torch/csrc/api/include/torch/all.h', 'c10/macros/Macros.h'):
            path = Path(inc) / rel
            if path.is_file() and CXX20_MARKER in path.read_text(errors='ignore'):
                return 'c++20'
    return 'c++17'


def patch_setup_py(setup_py: str, cxx_std: str) -> str:
    """Make mmcv's setup.py build here: drop ``pkg_resources`` and replace every hard-coded
    ``-std=c++NN`` / ``/std:c++NN`` with the standard torch needs."""
    if PKG_RESOURCES_IMPORT not in setup_py and 'pkg_resources' in setup_py:
        raise InstallError('mmcv\'s setup.py imports pkg_resources in an unexpected way; this '
                           'installer knows mmcv 2.x: pin a known mmcv version.')
    patched = setup_py.replace(PKG_RESOURCES_IMPORT, PKG_RESOURCES_REPLACEMENT)
    patched = re.sub(r'-std=c\+\+\d\d', f'-std={cxx_std}', patched)
    return re.sub(r'/std:c\+\+\d\d', f'/std:{cxx_std}', patched)


def decide_cuda(force: str, nvcc: str | None, torch_cuda: str | None,
                gpu_visible: bool) -> bool:
    """Whether to build CUDA ops. ``force`` is 'auto', '1' or '0'."""
    if force == '0':
        return False
    if force == '1':
        if nvcc is None:
            raise InstallError('CUDA ops were requested (MMSR_MMCV_CUDA=1 / --cuda 1) but nvcc '
                               'is not on PATH: install the CUDA toolkit matching torch '
                               f'(torch built with CUDA {torch_cuda}) or set CUDA_HOME.')
        if torch_cuda is None:
            raise InstallError('CUDA ops were requested but the installed torch is a CPU-only '
                               'build: install a CUDA build of torch first.')
        return True
    if force != 'auto':
        raise InstallError(f'--cuda must be auto, 1 or 0, not {force!r}.')
    return bool(nvcc and torch_cuda and gpu_visible)


def find_compiler(env: dict) -> str:
    cxx = env.get('CXX') or shutil.which('c++') or shutil.which('g++') or shutil.which('clang++')
    if not cxx or not shutil.which(cxx):
        raise InstallError('No C++ compiler found: mmcv\'s ops are compiled from source. Install '
                           'one (Debian/Ubuntu: "apt-get install build-essential"; Fedora: "dnf '
                           'install gcc-c++") or point CXX at it, then run this again.')
    return cxx


def write_pch_wrapper(folder: Path, cxx: str, header: Path) -> Path:
    """The compiler wrapper (:data:`PCH_WRAPPER`) for ``cxx`` and ``header``, as an executable
    in ``folder``."""
    wrapper = folder / 'pch-c++'
    wrapper.write_text(PCH_WRAPPER.format(python=sys.executable, cxx=shutil.which(cxx) or cxx,
                                          header=str(header)))
    wrapper.chmod(0o755)
    return wrapper


def cached_wheel(cache_dir: Path, plan: BuildPlan) -> Path | None:
    wheels = sorted((cache_dir / plan.cache_key).glob('mmcv-*.whl'))
    return wheels[-1] if wheels else None


def _run(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> None:
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, cwd=cwd)


def _pip(*args: str, env: dict | None = None) -> None:
    _run([sys.executable, '-m', 'pip', *args], env=env)


ARCH = re.compile(r'^\d+\.\d+[a-z]?(\+PTX)?$')


def decide_cuda_arch(requested: str | None, capabilities: list[tuple[int, int]]) -> str:
    """``TORCH_CUDA_ARCH_LIST`` for the build: ``requested`` (``--cuda-arch`` or the
    environment's) when given, else the visible GPUs' compute capabilities, e.g. ``'9.0'``."""
    if requested:
        archs = [a for a in re.split(r'[;\s]+', requested.strip()) if a]
        bad = [a for a in archs if not ARCH.match(a)]
        if bad or not archs:
            raise InstallError(f'--cuda-arch / TORCH_CUDA_ARCH_LIST {requested!r}: expected '
                               'compute capabilities such as "9.0" or "8.0;8.6+PTX".')
        return ';'.join(archs)
    if not capabilities:
        raise InstallError('CUDA ops for which GPU? None is visible here: name the target '
                           'architectures, e.g. --cuda-arch 9.0 (H100) or '
                           'TORCH_CUDA_ARCH_LIST="8.0;9.0".')
    return ';'.join(f'{major}.{minor}' for major, minor in sorted(set(capabilities)))


def make_plan(args: argparse.Namespace) -> BuildPlan:
    try:
        import torch
        from torch.utils import cpp_extension
    except ImportError as exc:
        raise InstallError('torch is not importable in this Python; install the pinned torch '
                           f'first (see {STACK_FILE}).') from exc
    nvcc = shutil.which('nvcc') or (os.path.join(os.environ['CUDA_HOME'], 'bin', 'nvcc')
                                    if os.environ.get('CUDA_HOME') else None)
    gpu_visible = bool(torch.version.cuda) and torch.cuda.is_available()
    cuda = decide_cuda(args.cuda, nvcc, torch.version.cuda, gpu_visible)
    if args.cuda == 'auto' and not cuda and gpu_visible:
        print('install_mmcv: a GPU is visible but nvcc was not found: building CPU ops only. '
              f'For CUDA ops install the CUDA {torch.version.cuda} toolkit (nvcc on PATH or '
              'CUDA_HOME set) and run this again with --rebuild.', file=sys.stderr, flush=True)
    capabilities = ([torch.cuda.get_device_capability(i)
                     for i in range(torch.cuda.device_count())] if gpu_visible else [])
    return BuildPlan(
        mmcv_version=args.version,
        torch_version=torch.__version__,
        python_tag=f'cp{sys.version_info.major}{sys.version_info.minor}',
        cuda=cuda,
        cuda_version=torch.version.cuda if cuda else None,
        cxx_std=required_cxx_std(cpp_extension.include_paths()),
        jobs=args.jobs,
        cuda_arch=decide_cuda_arch(args.cuda_arch, capabilities) if cuda else None)


def index_url() -> str:
    """The package index pip is configured with (``PIP_INDEX_URL`` or pip's config)."""
    url = os.environ.get('PIP_INDEX_URL')
    if not url:
        out = subprocess.run([sys.executable, '-m', 'pip', 'config', 'get', 'global.index-url'],
                             capture_output=True, text=True)
        url = out.stdout.strip() if out.returncode == 0 else ''
    return (url or DEFAULT_INDEX).rstrip('/')


def sdist_link(index_page: str, page_url: str, filename: str) -> str:
    """The absolute download URL of ``filename`` on a PEP 503 simple-index page."""
    for href in re.findall(r'href=["\']([^"\']+)["\']', index_page):
        if href.split('#')[0].rsplit('/', 1)[-1] == filename:
            return urllib.parse.urljoin(page_url, href.split('#')[0])
    raise InstallError(f'{filename} is not listed at {page_url}; check the version pinned in '
                       f'{STACK_FILE} or set PIP_INDEX_URL to an index that has it.')


def fetch_source(version: str, cache_dir: Path, download: bool = True) -> Path:
    """The mmcv sdist, downloaded once into the cache and checked against its known sha256
    (``download=False``: it must be there already).

    Fetched from the simple index directly: ``pip download`` would run mmcv's setup.py to read
    its metadata, which fails before the source is patched.
    """
    filename = f'mmcv-{version}.tar.gz'
    target = cache_dir / 'sdist' / filename
    if not target.is_file() and not download:
        raise InstallError(f'{target} is missing and --offline downloads nothing: put mmcv\'s '
                           f'source there (python tools/install_mmcv.py --source-only '
                           f'--cache-dir DIR on a machine with a package index).')
    if not target.is_file():
        page_url = f'{index_url()}/mmcv/'
        print(f'Downloading {filename} from {page_url}', flush=True)
        with urllib.request.urlopen(page_url, timeout=120) as resp:
            link = sdist_link(resp.read().decode(), page_url, filename)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Two set-ups may fetch it at the same time (`make test`): each writes its own file.
        partial = target.with_suffix(f'.{os.getpid()}.part')
        with urllib.request.urlopen(link, timeout=600) as resp, open(partial, 'wb') as out:
            shutil.copyfileobj(resp, out)
        partial.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    expected = KNOWN_SDIST_SHA256.get(version)
    if expected and digest != expected:
        target.unlink()
        raise InstallError(f'{filename} has sha256 {digest}, expected {expected}: the download '
                           'was corrupt or tampered with and was deleted; run this again.')
    return target


def extract_source(sdist: Path, folder: str) -> None:
    """Unpack ``sdist`` into ``folder``: with tarfile's ``'data'`` filter where this Python has
    it (3.10.12, 3.11.4 and newer); before that, as is - the file's sha256 was checked
    (:func:`fetch_source`)."""
    with tarfile.open(sdist) as tar:
        if hasattr(tarfile, 'data_filter'):
            tar.extractall(folder, filter='data')
        else:
            tar.extractall(folder)


def build_wheel(plan: BuildPlan, sdist: Path, out_dir: Path) -> Path:
    env = dict(os.environ)
    cxx = find_compiler(env)
    env.update(MMCV_WITH_OPS='1', FORCE_CUDA='1' if plan.cuda else '0',
               MAX_JOBS=str(plan.jobs))
    if plan.cuda:
        env['TORCH_CUDA_ARCH_LIST'] = plan.cuda_arch
    else:
        env['CUDA_VISIBLE_DEVICES'] = ''  # mmcv's setup.py builds CUDA ops whenever it sees a GPU
    with tempfile.TemporaryDirectory(prefix='mmcv-build-') as tmp:
        extract_source(sdist, tmp)
        src = Path(tmp) / f'mmcv-{plan.mmcv_version}'
        setup_py = src / 'setup.py'
        setup_py.write_text(patch_setup_py(setup_py.read_text(), plan.cxx_std))
        if not plan.cuda and (src / PCH_HEADER).is_file():
            env['CXX'] = str(write_pch_wrapper(Path(tmp), cxx, src / PCH_HEADER))
        _run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
              '-w', str(out_dir), str(src)], env=env)
    wheels = sorted(out_dir.glob('mmcv-*.whl'))
    if not wheels:
        raise InstallError(f'mmcv build produced no wheel in {out_dir}.')
    return wheels[-1]


def check_code(cuda: bool) -> str:
    """Python that runs an mmcv op (nms) on the CPU, and on CUDA tensors for a CUDA build
    where a GPU is visible."""
    code = ('import mmcv, mmcv.ops; from mmcv.ops import nms; import torch; '
            'b = torch.tensor([[0., 0., 1., 1.], [0., 0., 1., 1.]]); s = torch.tensor([.9, .8]); '
            'assert nms(b, s, 0.5)[1].tolist() == [0]; ')
    if cuda:
        code += ('assert not torch.cuda.is_available() or '
                 'nms(b.cuda(), s.cuda(), 0.5)[1].tolist() == [0]; ')
    return code + 'print("mmcv", mmcv.__version__, "ops OK")'


def check_installed(plan: BuildPlan) -> None:
    _run([sys.executable, '-c', check_code(plan.cuda)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--version', default=None, help='mmcv version (default: the pin file)')
    parser.add_argument('--cuda', default=os.environ.get('MMSR_MMCV_CUDA', 'auto'),
                        choices=['auto', '1', '0'], help='build CUDA ops (default: auto)')
    parser.add_argument('--cuda-arch', default=os.environ.get('TORCH_CUDA_ARCH_LIST'),
                        help='compute capabilities to compile for, e.g. "9.0" (default: '
                             '$TORCH_CUDA_ARCH_LIST, else the visible GPUs)')
    parser.add_argument('--jobs', type=int, default=os.cpu_count() or 1,
                        help='parallel compile jobs (default: number of cores)')
    parser.add_argument('--cache-dir', type=Path, default=Path(os.environ.get(
        'MMSR_CACHE_DIR', Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache')) / 'mmsr')))
    parser.add_argument('--rebuild', action='store_true', help='ignore a cached wheel')
    parser.add_argument('--dry-run', action='store_true', help='print the decisions and stop')
    parser.add_argument('--source-only', action='store_true',
                        help='download and check the mmcv source into the cache, then stop '
                             '(to carry it to a machine without a package index)')
    parser.add_argument('--offline', action='store_true',
                        help='use the build tools and mmcv\'s dependencies already installed '
                             'and the source already in the cache; download nothing')
    parser.add_argument('--target', type=Path,
                        help='install the wheel into this folder (pip --target, no '
                             'dependencies) instead of the environment')
    args = parser.parse_args(argv)
    try:
        args.version = args.version or pinned_version('mmcv')
        if args.source_only:
            print(f'mmcv {args.version} source: {fetch_source(args.version, args.cache_dir)}')
            return 0
        plan = make_plan(args)
        arch = f' for sm {plan.cuda_arch}' if plan.cuda else ''
        print(f'mmcv {plan.mmcv_version}: {plan.flavour} ops{arch}, -std={plan.cxx_std}, '
              f'torch {plan.torch_version}, {plan.jobs} jobs; '
              f'cache {args.cache_dir / plan.cache_key}', flush=True)
        if args.dry_run:
            return 0
        wheel = None if args.rebuild else cached_wheel(args.cache_dir, plan)
        if wheel is None:
            if not args.offline:
                _pip('install', '-q', '-c', str(STACK_FILE), *BUILD_TOOLS)
            sdist = fetch_source(plan.mmcv_version, args.cache_dir, download=not args.offline)
            print(f'Building mmcv from {sdist} ({plan.flavour} ops; about 5 minutes on 2 '
                  'cores for CPU ops)...',
                  flush=True)
            started = time.monotonic()
            wheel = build_wheel(plan, sdist, args.cache_dir / plan.cache_key)
            print(f'Built {wheel} in {time.monotonic() - started:.0f} s '
                  f'({wheel.stat().st_size / 2**20:.1f} MiB)', flush=True)
        else:
            print(f'Reusing cached wheel {wheel}', flush=True)
        if args.target:
            _pip('install', '-q', '--no-deps', '--no-index', '--upgrade', '--target',
                 str(args.target), str(wheel))
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(
                [str(args.target), os.environ.get('PYTHONPATH', '')]))
            _run([sys.executable, '-c', check_code(plan.cuda)], env=env)
            return 0
        # The wheel itself replaces any mmcv already there; then its runtime requirements
        # (mmengine, opencv-python, ...) are filled in within the pins.
        _pip('install', '--no-deps', '--force-reinstall', str(wheel))
        if not args.offline:
            _pip('install', '-q', '-c', str(STACK_FILE), str(wheel))
        check_installed(plan)
    except InstallError as exc:
        print(f'install_mmcv: error: {exc}', file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f'install_mmcv: error: command failed ({exc.returncode}): {" ".join(exc.cmd)}',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
