"""The Python and torch that mmsr runs on, checked first thing by ``import mmsr``; and the
setuptools that mmengine needs to read ``mmseg::`` / ``mmpretrain::`` config bases.

Like mmengine, mmsegmentation and mmpretrain, mmsr does not list torch among its install
requirements: ``pip install mmsr`` never upgrades, downgrades or replaces an environment's
torch, whose build mmcv's compiled ops are tied to. ``import mmsr`` refuses an unsupported one
instead, with one line that names the supported range.
"""
from __future__ import annotations

import re
import sys
import warnings
from importlib import metadata
from typing import Optional, Sequence, Tuple

from .errors import UnsupportedEnvironmentError

#: The oldest Python mmsr supports (``python_requires`` in setup.py).
PYTHON_MIN = (3, 10)
#: The oldest torch mmsr supports, the newest OpenMMLab's prebuilt mmcv 2.1.0 wheels serve.
TORCH_MIN = (2, 1)
#: The newest torch of the tested matrix (README, "Supported versions").
TORCH_NEWEST_TESTED = (2, 15)
#: The first setuptools without ``pkg_resources``, which mmengine 0.10 imports to find the
#: installed codebase of an ``mmseg::`` / ``mmpretrain::`` config base.
SETUPTOOLS_WITHOUT_PKG_RESOURCES = (81, 0)


def _dotted(version: Sequence[int]) -> str:
    return '.'.join(map(str, version))


def _release(version: str) -> Tuple[int, int]:
    """``(major, minor)`` of a version string such as ``2.14.1+cu130`` or ``2.6.0a0+git1f3``."""
    match = re.match(r'\s*(\d+)\.(\d+)', version)
    if match is None:
        raise UnsupportedEnvironmentError(
            f'torch reports the version {version!r}, which is not of the form MAJOR.MINOR...: '
            'reinstall torch from a release wheel.')
    return int(match[1]), int(match[2])


def check_python(version_info: Sequence[int] = tuple(sys.version_info)) -> None:
    """Raise if ``version_info`` (default: this interpreter's) is older than :data:`PYTHON_MIN`."""
    if tuple(version_info[:2]) < PYTHON_MIN:
        raise UnsupportedEnvironmentError(
            f'mmsr needs Python {_dotted(PYTHON_MIN)} or newer, and this is Python '
            f'{_dotted(version_info[:2])}: use an environment with a newer Python.')


def torch_range() -> str:
    """The supported torch versions, as the messages name them."""
    return (f'torch {_dotted(TORCH_MIN)} or newer (tested: {_dotted(TORCH_MIN)} to '
            f'{_dotted(TORCH_NEWEST_TESTED)})')


def check_torch(version: Optional[str]) -> None:
    """Raise if torch ``version`` (``None``: not installed) is older than :data:`TORCH_MIN`;
    warn once if it is newer than the newest tested one."""
    if version is None:
        raise UnsupportedEnvironmentError(
            f'mmsr needs {torch_range()}, and this environment has no torch: install torch '
            'first, then full mmcv for it (README, "Install into an existing OpenMMLab '
            'environment").')
    release = _release(version)
    if release < TORCH_MIN:
        raise UnsupportedEnvironmentError(
            f'mmsr supports {torch_range()}, and this environment has torch {version}: use '
            f'mmsr in an environment with torch >= {_dotted(TORCH_MIN)} (OpenMMLab\'s prebuilt '
            'mmcv 2.1.0 wheels serve torch 2.1).')
    if release > TORCH_NEWEST_TESTED:
        warnings.warn(
            f'mmsr was tested with torch {_dotted(TORCH_MIN)} to '
            f'{_dotted(TORCH_NEWEST_TESTED)}; torch {version} is newer and untested.',
            stacklevel=3)


def installed_torch_version() -> Optional[str]:
    """The installed torch's version, ``None`` without torch: from the package's metadata, so
    that a torch too old to import cleanly (missing runtime libraries, another numpy ABI) is
    named without being imported; from ``torch.__version__`` for a torch without metadata."""
    try:
        return metadata.version('torch')
    except metadata.PackageNotFoundError:
        pass
    try:
        import torch
    except ModuleNotFoundError as error:
        if error.name != 'torch':
            raise
        return None
    return torch.__version__


def check_environment() -> None:
    """What ``import mmsr`` runs before anything else: the Python and the torch."""
    check_python()
    check_torch(installed_torch_version())


def pkg_resources_error(config: str) -> UnsupportedEnvironmentError:
    """The error for loading ``config`` where mmengine needed ``pkg_resources`` and this
    environment's setuptools (>= 81, or none) does not provide it."""
    try:
        setuptools = f'setuptools {metadata.version("setuptools")}'
    except metadata.PackageNotFoundError:
        setuptools = 'this environment (it has no setuptools)'
    try:
        mmengine = f'mmengine {metadata.version("mmengine")}'
    except metadata.PackageNotFoundError:  # an mmengine run from a source tree
        mmengine = 'mmengine'
    below = SETUPTOOLS_WITHOUT_PKG_RESOURCES[0]
    return UnsupportedEnvironmentError(
        f'{config}: {mmengine} resolves "mmseg::" / "mmpretrain::" config bases with '
        f'pkg_resources, which {setuptools} does not ship (setuptools >= {below} dropped it): '
        f'pip install "setuptools<{below}"')
