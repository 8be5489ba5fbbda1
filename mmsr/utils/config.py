"""Loading a config, telling its codebase, and walking its nested dicts."""
from __future__ import annotations

import os
from typing import Iterator, Optional, Tuple

from mmengine.config import Config

from ..errors import ConfigError
from ..supported import pkg_resources_error

CODEBASES = ('mmseg', 'mmpretrain')


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` plus ``--cfg-options``; a clear error for a missing file, and for
    an ``mmseg::`` / ``mmpretrain::`` base where setuptools >= 81 took mmengine's
    ``pkg_resources`` away."""
    if not os.path.isfile(path):
        raise ConfigError(f'config file {path!r} does not exist.')
    try:
        cfg = Config.fromfile(path)
    except ModuleNotFoundError as error:
        if error.name != 'pkg_resources':
            raise
        raise pkg_resources_error(path) from error
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def detect_codebase(cfg: Config) -> str:
    """``'mmseg'`` or ``'mmpretrain'``, from the config's ``default_scope``."""
    scope = cfg.get('default_scope')
    if scope not in CODEBASES:
        raise ConfigError(
            f'{cfg.filename}: default_scope is {scope!r}. These tools run MMSegmentation and '
            "MMPretrain configs, which set default_scope='mmseg' or 'mmpretrain': inherit an "
            "mmseg:: or mmpretrain:: config, or set default_scope in yours.")
    return scope


def iter_dicts(node, key: str = '') -> Iterator[Tuple[str, dict]]:
    """``(dotted key, dict)`` for every dict inside ``node``, parents before their children
    (list items are keyed by index, as ``--cfg-options`` spells them). A caller may change a
    yielded dict's values before the walk goes into them."""
    if isinstance(node, dict):
        yield key, node
        for child_key, value in node.items():
            yield from iter_dicts(value, f'{key}.{child_key}' if key else str(child_key))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from iter_dicts(value, f'{key}.{index}' if key else str(index))
