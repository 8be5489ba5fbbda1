"""Walking the nested dicts and lists of a config (a model config, a dataset config, ...)."""
from __future__ import annotations

from typing import Iterator, Tuple


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
