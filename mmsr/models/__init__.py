"""Modules (``layers``: torch + mmengine only), and backbones and heads registered into the
mmseg / mmpretrain registries when those codebases are installed."""
import importlib
import importlib.util
import warnings
from typing import Dict

from .layers import CBAM, DropBlock, SRBlock

# codebase -> modules that register into its registry
_CODEBASE_MODULES = {
    'mmseg': ('mmsr.models.backbones.mmseg_backbones', ),
    'mmpretrain': ('mmsr.models.backbones.mmpretrain_backbones',
                   'mmsr.models.heads.dropout_linear_head'),
}


def _register_codebases() -> Dict[str, bool]:
    """Import the registering modules of every installed codebase; skip the others.

    A codebase that is installed but cannot be imported (typically mmseg or mmpretrain
    without a full mmcv) is skipped with a warning that says how to fix it.
    """
    found = {}
    for codebase, modules in _CODEBASE_MODULES.items():
        found[codebase] = False
        if importlib.util.find_spec(codebase) is None:
            continue
        try:
            importlib.import_module(codebase)
            for module in modules:
                importlib.import_module(module)
        except ImportError as exc:
            warnings.warn(f'mmsr: {codebase} is installed but cannot be imported ({exc}); '
                          f'its models are not registered. mmseg and mmpretrain need full mmcv '
                          f'with compiled ops: install it with `mim install "mmcv==2.1.0"`, or '
                          f'build mmcv from source (see mmsr\'s installation instructions).',
                          stacklevel=2)
            continue
        found[codebase] = True
    return found


_AVAILABLE = _register_codebases()


def available_codebases() -> Dict[str, bool]:
    """Which OpenMMLab codebases mmsr registered its models into, e.g. ``{'mmseg': True}``."""
    return dict(_AVAILABLE)


__all__ = ['SRBlock', 'DropBlock', 'CBAM', 'available_codebases']
