"""A dataset's loading steps, failing with one line that names the file and the dataset key.

mmcv's ``LoadImageFromFile`` meets an empty image with a cv2 traceback and a corrupt one with
``AssertionError: failed to load image``; a label map of another size than its image goes on
to fail in a crop, a stack or the metric, far from the file. :func:`check_loading` wraps the
loading transforms of every dataset in a (possibly wrapped) dataset so that each of these is a
:class:`~mmsr.errors.DataError` (or :class:`~mmsr.errors.DataNotFoundError`) such as::

    train_dataloader.dataset: image data/imagenet/train/n01/x.JPEG does not exist (named by
    line 17 of data/imagenet/meta/train.txt)
"""
from __future__ import annotations

import os
from typing import Optional

from ..errors import DataError, DataNotFoundError, MMSRError
from .nested import nested_datasets


def _loading_transforms() -> tuple:
    try:
        from mmcv.transforms import LoadAnnotations, LoadImageFromFile
    except ImportError:  # no mmcv: no pipelines to check
        return ()
    return LoadImageFromFile, LoadAnnotations


class CheckedLoading:
    """One loading transform (``LoadImageFromFile`` or ``LoadAnnotations``) whose failures
    name the file, the dataset key and, for a dataset with an annotation file, its line; after
    ``LoadAnnotations``, the label map must have the height and width of its image as read
    (``ori_shape``; test pipelines resize the image before they load the labels)."""

    def __init__(self, transform, key: str, ann_file: str = '') -> None:
        self.transform, self.key, self.ann_file = transform, key, ann_file
        self.loads_labels = not isinstance(transform, _loading_transforms()[0])

    def __call__(self, results: dict) -> Optional[dict]:
        path = results.get('seg_map_path' if self.loads_labels else 'img_path')
        try:
            out = self.transform(results)
        except MMSRError:
            raise
        except Exception as exc:  # noqa: BLE001 - every way a file can fail to load
            raise self._error(path, exc) from None
        if out is not None and self.loads_labels:
            self._check_label_size(out)
        return out

    def __repr__(self) -> str:
        return repr(self.transform)

    def _what(self) -> str:
        return 'label map' if self.loads_labels else 'image'

    def _named_by(self, path: str) -> str:
        if not path or not self.ann_file or not os.path.isfile(self.ann_file):
            return ''
        with open(self.ann_file) as f:
            for number, line in enumerate(f, 1):
                name = line.split()[0] if line.split() else ''
                if name and os.path.normpath(path).endswith(os.path.normpath(name)):
                    return f' (named by line {number} of {self.ann_file})'
        return ''

    def _error(self, path: str, exc: Exception) -> MMSRError:
        where = f'{self.key}: {self._what()} {path}'
        if path and not os.path.exists(path):
            return DataNotFoundError(f'{where} does not exist{self._named_by(path)}')
        if path and os.path.isfile(path) and os.path.getsize(path) == 0:
            return DataError(f'{where} is empty (0 bytes){self._named_by(path)}')
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return DataError(f'{where} cannot be read ({reason}){self._named_by(path)}; '
                         'replace the file or remove it from the dataset')

    def _check_label_size(self, results: dict) -> None:
        labels, size = results.get('gt_seg_map'), results.get('ori_shape')  # the image as read
        if labels is None or size is None or tuple(labels.shape[:2]) == tuple(size[:2]):
            return
        raise DataError(
            f'{self.key}: label map {results.get("seg_map_path")} is '
            f'{labels.shape[0]}x{labels.shape[1]} but its image {results.get("img_path")} is '
            f'{size[0]}x{size[1]} (height x width); a label map must have its image\'s size')


def check_loading(dataset, key: str) -> None:
    """Wrap the loading transforms of ``dataset`` and of every dataset inside it (see
    :func:`~mmsr.datasets.nested.nested_datasets`) in :class:`CheckedLoading`; ``key`` is its
    config key, e.g. ``'train_dataloader.dataset'``. Idempotent."""
    kinds = _loading_transforms()
    if not kinds:
        return
    for inner_key, inner in nested_datasets(dataset, key):
        transforms = getattr(getattr(inner, 'pipeline', None), 'transforms', None)
        if not isinstance(transforms, list):
            continue
        ann_file = getattr(inner, 'ann_file', '') or ''
        for i, transform in enumerate(transforms):
            if isinstance(transform, kinds):
                transforms[i] = CheckedLoading(transform, inner_key, ann_file)
