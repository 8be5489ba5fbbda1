"""Before a dataset is built: every folder and file its config names must exist.

A dataset whose folder is missing fails deep inside its own ``__init__`` (mmengine's
``list_dir_or_file``, numpy's ``loadtxt``, a pickle open). :func:`check_dataset_paths` finds
it first and raises a :class:`~mmsr.errors.DataNotFoundError` naming the config key to set::

    train_dataloader.dataset: the CityscapesDataset folder data_root='data/cityscapes/' does
    not exist (looked for /home/me/data/cityscapes). Put the dataset there (README, "Data
    preparation") or pass --cfg-options train_dataloader.dataset.data_root=/path/to/it
"""
from __future__ import annotations

import os
from typing import List, Tuple

from ..errors import DataNotFoundError
from .nested import nested_datasets

# The folder inside data_root that holds a dataset's files, where the class fixes it.
_FIXED_FOLDERS = {'CIFAR10': 'cifar-10-batches-py', 'CIFAR100': 'cifar-100-python'}
# Datasets whose ``split`` names a folder under data_root.
_SPLIT_FOLDER_DATASETS = ('ImageNet', 'ImageNet21k')


def _is_uri(path: str) -> bool:
    return '://' in path


def dataset_paths(dataset: dict) -> List[Tuple[str, str]]:
    """``(setting, path)`` pairs a dataset config reads, relative paths joined to
    ``data_root``; remote (``s3://``-style) paths left out."""
    root = dataset.get('data_root') or ''
    settings = []
    prefix = dataset.get('data_prefix')
    if isinstance(prefix, str):
        settings.append(('data_prefix', prefix))
    elif isinstance(prefix, dict):
        settings += [(f'data_prefix.{k}', v) for k, v in prefix.items() if isinstance(v, str)]
    if isinstance(dataset.get('ann_file'), str):
        settings.append(('ann_file', dataset['ann_file']))
    if dataset.get('type') in _SPLIT_FOLDER_DATASETS and dataset.get('split') and not prefix:
        settings.append(('split', dataset['split']))
    if dataset.get('type') in _FIXED_FOLDERS:
        settings.append(('data_root', _FIXED_FOLDERS[dataset['type']]))
    return [(setting, path if os.path.isabs(path) else os.path.join(root, path))
            for setting, path in settings if path and not _is_uri(path)]


def check_dataset_paths(dataset: dict, key: str) -> None:
    """Raise :class:`DataNotFoundError` for the first folder or file that ``dataset`` (a
    dataset config, possibly wrapped; ``key`` its config key, e.g.
    ``'train_dataloader.dataset'``) names and that does not exist. Datasets that download
    their files, and remote ones, are not checked."""
    for leaf_key, leaf in nested_datasets(dataset, key, leaves_only=True):
        if not isinstance(leaf, dict):
            continue  # an already-built dataset
        root = leaf.get('data_root') or ''
        if leaf.get('download') or _is_uri(root):
            continue
        name = leaf.get('type', 'dataset')
        if root and not os.path.isdir(root):
            raise DataNotFoundError(
                f'{leaf_key}: the {name} folder data_root={root!r} does not exist (looked for '
                f'{os.path.abspath(root)}). Put the dataset there (README, "Data '
                f'preparation") or pass --cfg-options {leaf_key}.data_root=/path/to/it')
        for setting, path in dataset_paths(leaf):
            if not os.path.exists(path):
                raise DataNotFoundError(
                    f'{leaf_key}: {name} expects {path!r} ({setting}) under '
                    f'data_root={root!r}, and it does not exist. Check that data_root is the '
                    'dataset\'s top folder in the layout the README ("Data preparation") '
                    f'shows, or set --cfg-options {leaf_key}.{setting}=...')
