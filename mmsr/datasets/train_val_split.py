"""``TrainValSplit``: one part of a fixed, seeded train/val split of a dataset.

The paper trains its CIFAR models on 90% of the CIFAR training set, keeps the best checkpoint
on the other 10% and reports the test set. In a config::

    train_dataloader = dict(dataset=dict(type='TrainValSplit', part='train', val_fraction=0.1,
                                         dataset=dict(type='CIFAR100', split='train', ...)))
    val_dataloader = dict(dataset=dict(type='TrainValSplit', part='val', val_fraction=0.1,
                                       dataset=dict(type='CIFAR100', split='train', ...)))

Both parts draw the same permutation (``seed``), so they are disjoint and together are the
whole dataset, on every machine and every rank.
"""
from __future__ import annotations

import copy
from typing import List, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.registry import DATASETS

from ..errors import ConfigError

PARTS = ('train', 'val')


def split_indices(num_samples: int, val_fraction: float, seed: int) -> dict:
    """``{'train': [...], 'val': [...]}``: sorted, disjoint indices covering ``range(n)``."""
    order = np.random.RandomState(seed).permutation(num_samples)
    num_val = int(round(num_samples * val_fraction))
    return {'val': sorted(order[:num_val].tolist()), 'train': sorted(order[num_val:].tolist())}


@DATASETS.register_module()
class TrainValSplit:
    """The ``part`` (``'train'`` or ``'val'``) of a seeded random split of ``dataset``.

    Args:
        dataset: the dataset to split (a config or a :class:`BaseDataset`).
        part: which part this is.
        val_fraction: the fraction held out for validation, in (0, 1).
        seed: the seed of the permutation; both parts must use the same one.
        lazy_init: as in mmengine's dataset wrappers.
    """

    def __init__(self, dataset: Union[dict, BaseDataset], part: str, val_fraction: float = 0.1,
                 seed: int = 0, lazy_init: bool = False) -> None:
        if part not in PARTS:
            raise ConfigError(f"TrainValSplit: part must be one of {PARTS}, got {part!r}.")
        if not 0.0 < val_fraction < 1.0:
            raise ConfigError('TrainValSplit: val_fraction must be in (0, 1), e.g. 0.1 for the '
                              f'paper\'s 90/10 split; got {val_fraction!r}.')
        self.dataset: BaseDataset = (DATASETS.build(dataset) if isinstance(dataset, dict)
                                     else dataset)
        if not isinstance(self.dataset, BaseDataset):
            raise TypeError('TrainValSplit needs a BaseDataset (or its config), got '
                            f'{type(self.dataset).__name__}.')
        self.part, self.val_fraction, self.seed = part, val_fraction, seed
        self._metainfo = self.dataset.metainfo
        self.indices: List[int] = []
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.dataset.full_init()
        total = len(self.dataset)
        self.indices = split_indices(total, self.val_fraction, self.seed)[self.part]
        if not self.indices:
            raise ConfigError(f'TrainValSplit: the {self.part} part of a dataset of {total} '
                              f'samples with val_fraction={self.val_fraction} is empty.')
        self.dataset.get_subset_(self.indices)
        self._fully_initialized = True

    def get_data_info(self, idx: int) -> dict:
        self.full_init()
        return self.dataset.get_data_info(idx)

    def __getitem__(self, idx: int) -> dict:
        self.full_init()
        return self.dataset[idx]

    def __len__(self) -> int:
        self.full_init()
        return len(self.dataset)
