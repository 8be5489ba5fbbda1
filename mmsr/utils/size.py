"""Spatial sizes given as one int or an ``(H, W)`` pair."""
from __future__ import annotations

from typing import Sequence, Tuple, Union

from mmengine.utils import to_2tuple

from ..errors import ConfigError

SizeLike = Union[int, Sequence[int]]


def to_size(value: SizeLike, name: str) -> Tuple[int, int]:
    """``7`` or ``(7, 9)`` as a positive ``(H, W)`` tuple; a :class:`ConfigError` otherwise."""
    size = to_2tuple(value) if isinstance(value, (int, list, tuple)) else ()
    if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0
                                 for s in size):
        raise ConfigError(f'{name} must be a positive int or a pair (H, W) of positive ints, '
                          f'got {value!r}.')
    return tuple(size)
