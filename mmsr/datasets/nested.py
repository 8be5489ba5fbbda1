"""The one walker over a dataset and the datasets its wrappers hold, for configs and objects."""
from __future__ import annotations

from typing import Any, Iterator, Tuple


def _child(dataset: Any, name: str) -> Any:
    return dataset.get(name) if isinstance(dataset, dict) else getattr(dataset, name, None)


def nested_datasets(dataset: Any, key: str, leaves_only: bool = False
                    ) -> Iterator[Tuple[str, Any]]:
    """``(config key, dataset)`` for ``dataset`` and every dataset inside it, parents first.

    ``dataset`` is a dataset config (a dict) or a built dataset; wrappers hold theirs in
    ``dataset`` (RepeatDataset, ClassBalancedDataset, TrainValSplit) or ``datasets``
    (ConcatDataset), keyed as ``--cfg-options`` spells them: ``<key>.dataset``,
    ``<key>.datasets.<i>``. ``leaves_only``: only the datasets that wrap none.
    """
    if dataset is None:
        return
    inner, many = _child(dataset, 'dataset'), _child(dataset, 'datasets')
    children = []
    if isinstance(many, (list, tuple)):
        children = [(f'{key}.datasets.{i}', child) for i, child in enumerate(many)]
    elif inner is not None and not isinstance(inner, (str, bytes)):
        children = [(f'{key}.dataset', inner)]
    if not (leaves_only and children):
        yield key, dataset
    for child_key, child in children:
        yield from nested_datasets(child, child_key, leaves_only)
