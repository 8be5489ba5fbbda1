"""Load mmengine checkpoints under torch >= 2.6 safely (``weights_only=True`` kept on).

torch >= 2.6 unpickles checkpoints with ``weights_only=True`` by default, and mmengine 0.10.7
calls ``torch.load`` without the argument, so a checkpoint that mmengine itself saved fails
(``Unsupported global: GLOBAL mmengine.logging.history_buffer.HistoryBuffer``) in the stock
``tools/test.py``, ``train.py --resume`` and ``load_checkpoint``. Turning ``weights_only`` off
would let a crafted file run code. Instead, :func:`install` (run by ``import mmsr``):

* allows exactly the globals mmengine's own checkpoints hold: ``HistoryBuffer`` and numpy's
  array/scalar reconstruction (``ndarray``, ``dtype``, ``_reconstruct``, ``scalar``);
* maps ``builtins.getattr`` to :func:`history_buffer_getattr`, which resolves only
  ``getattr(HistoryBuffer, <registered statistic>)`` (how a pickled ``HistoryBuffer`` refers
  to its statistic methods) and refuses every other use;
* replaces mmengine's local-file checkpoint loader with :func:`load_local_checkpoint`, which
  loads with ``weights_only=True`` explicitly and turns a refused global, a missing file or a
  truncated/corrupt file into a :class:`CheckpointLoadError` that names the file and says
  what to do.

A torch without ``add_safe_globals`` (< 2.4) has no allow-list to extend: there checkpoints load
as that torch's own default does (``weights_only=False`` before 2.6, i.e. full unpickling, as in
the stock tools), and only the clear errors for missing and corrupt files are added.
"""
from __future__ import annotations

import os
import pickle
from typing import Any, Callable, List

import torch

from ..errors import MMSRError
from ..torch_features import HAS_SAFE_GLOBALS

_installed = False


class CheckpointLoadError(MMSRError, RuntimeError):
    """A checkpoint that cannot (or must not) be loaded; the message says why."""


def _history_buffer_cls():
    from mmengine.logging.history_buffer import HistoryBuffer
    return HistoryBuffer


def history_buffer_getattr(obj: Any, name: str, *default) -> Callable:
    """``builtins.getattr`` as the safe unpickler sees it: only a ``HistoryBuffer`` statistic."""
    history_buffer = _history_buffer_cls()
    allowed = set(getattr(history_buffer, '_statistics_methods', {})) | {
        'min', 'max', 'current', 'mean'}
    if obj is history_buffer and isinstance(name, str) and name in allowed:
        return getattr(history_buffer, name)
    raise pickle.UnpicklingError(
        f'refused getattr({getattr(obj, "__qualname__", type(obj).__name__)}, {name!r}): '
        'only HistoryBuffer statistics may be resolved while loading a checkpoint')


def _numpy_globals() -> List[Any]:
    import numpy as np
    allowed: List[Any] = [np.ndarray, np.dtype]
    for module_name in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        try:
            module = __import__(module_name, fromlist=['_reconstruct', 'scalar'])
        except ImportError:
            continue
        for attr in ('_reconstruct', 'scalar'):
            allowed.append((getattr(module, attr), f'{module_name}.{attr}'))
    # numpy 2 pickles dtypes through their classes, e.g. numpy.dtypes.Float64DType.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')
                    and isinstance(getattr(dtypes, n), type)]
    return allowed


def safe_globals() -> List[Any]:
    """Everything :func:`install` adds to torch's ``weights_only`` allow-list."""
    return [_history_buffer_cls(), (history_buffer_getattr, 'builtins.getattr'),
            *_numpy_globals()]


def load_local_checkpoint(filename: str, map_location=None) -> Any:
    """mmengine's local loader, with ``weights_only=True`` and errors that say what to do."""
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise CheckpointLoadError(f'checkpoint {filename} does not exist; check the path '
                                  '(--checkpoint / load_from / resume).')
    # weights_only=True needs the allow-list; without it, torch's own default (see above).
    safe = dict(weights_only=True) if HAS_SAFE_GLOBALS else {}
    try:
        return torch.load(filename, map_location=map_location, **safe)
    except pickle.UnpicklingError as exc:
        refusal = [line for line in str(exc).splitlines()
                   if 'GLOBAL' in line or 'refused getattr' in line]
        if refusal:
            raise CheckpointLoadError(
                f'refused to load checkpoint {filename}: it needs Python objects that are not '
                'on mmsr\'s safe list, so loading it could run code. Detail: '
                f'{refusal[0].strip()} If you made this file and trust it, allow that object '
                'with torch.serialization.add_safe_globals([...]).') from None
        raise _corrupt(filename, exc) from None
    except (EOFError, ValueError) as exc:
        raise _corrupt(filename, exc) from None
    except RuntimeError as exc:
        if any(s in str(exc) for s in ('PytorchStreamReader', 'zip archive', 'EOF')):
            raise _corrupt(filename, exc) from None
        raise


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else text


def _corrupt(filename: str, exc: BaseException) -> CheckpointLoadError:
    return CheckpointLoadError(f'checkpoint {filename} is truncated or corrupt '
                               f'({_first_line(str(exc)) or type(exc).__name__}); save it '
                               'again or point to an intact file.')


def install() -> None:
    """Add the allow-list to torch and register the safe local loader with mmengine."""
    global _installed
    if _installed:
        return
    if HAS_SAFE_GLOBALS:
        torch.serialization.add_safe_globals(safe_globals())
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
    _installed = True


__all__ = ['install', 'load_local_checkpoint', 'history_buffer_getattr', 'safe_globals',
           'CheckpointLoadError']
