"""Small synthetic datasets written in the real on-disk layouts, for tests and the demo.

They are *synthetic* (generated pictures, not photographs) but learnable, and each is laid out
exactly as the stock mmpretrain / mmseg dataset classes expect, so the stock configs, dataset
classes, metrics and tools read them unchanged:

* :func:`make_imagenet_layout` - ``train/<wnid>/<wnid>_<i>.JPEG``, a flat ``val/`` folder and
  ``meta/{train,val}.txt`` (mmpretrain ``ImageNet``);
* :func:`make_cifar_layout` - CIFAR's python pickles, ``cifar-10-batches-py/`` (``data_batch_1..5``,
  ``test_batch``, ``batches.meta``) or ``cifar-100-python/`` (``train``, ``test``, ``meta``),
  as in the archives mmpretrain ``CIFAR10`` / ``CIFAR100`` read. Their md5 sums naturally differ
  from the real files', which those classes check;
* :func:`make_cityscapes_layout` - ``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` with
  ``gtFine/<split>/<city>/*_gtFine_labelIds.png`` (Cityscapes label ids) and
  ``*_gtFine_labelTrainIds.png`` (train ids, 255 = ignore), as produced by mmseg's
  ``tools/dataset_converters/cityscapes.py`` (mmseg ``CityscapesDataset``).
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Dict, Sequence, Tuple

import numpy as np
from PIL import Image

# Cityscapes label id -> train id for the classes the street scenes draw.
CITYSCAPES_ID_TO_TRAIN_ID: Dict[int, int] = {
    7: 0,    # road
    8: 1,    # sidewalk
    11: 2,   # building
    21: 8,   # vegetation
    23: 10,  # sky
    24: 11,  # person
    26: 13,  # car
}
# A class's base colour (RGB) in the generated images, by label id.
_SCENE_COLOURS = {7: (128, 64, 128), 8: (244, 35, 232), 11: (70, 70, 70), 21: (107, 142, 35),
                  23: (70, 130, 180), 24: (220, 20, 60), 26: (0, 0, 142)}


def make_imagenet_layout(root: str | os.PathLike, num_classes: int = 3,
                         train_per_class: int = 4, val_per_class: int = 2, size: int = 32,
                         seed: int = 0) -> Path:
    """Write an ImageNet-layout folder whose classes differ in colour and stripe frequency."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    wnids = [f'n{index:08d}' for index in range(num_classes)]
    train_lines, val_lines = [], []
    for label, wnid in enumerate(wnids):
        (root / 'train' / wnid).mkdir(parents=True, exist_ok=True)
        for i in range(train_per_class):
            name = f'{wnid}/{wnid}_{i}.JPEG'
            _class_image(label, num_classes, size, rng).save(root / 'train' / name, quality=95)
            train_lines.append(f'{name} {label}')
    (root / 'val').mkdir(parents=True, exist_ok=True)
    index = 0
    for label in range(num_classes):
        for _ in range(val_per_class):
            index += 1
            name = f'ILSVRC2012_val_{index:08d}.JPEG'
            _class_image(label, num_classes, size, rng).save(root / 'val' / name, quality=95)
            val_lines.append(f'{name} {label}')
    (root / 'meta').mkdir(exist_ok=True)
    (root / 'meta' / 'train.txt').write_text('\n'.join(train_lines) + '\n')
    (root / 'meta' / 'val.txt').write_text('\n'.join(val_lines) + '\n')
    return root


def make_cifar_layout(root: str | os.PathLike, num_classes: int = 10, train_per_class: int = 10,
                      test_per_class: int = 2, seed: int = 0) -> Path:
    """Write CIFAR-10 (``num_classes=10``) or CIFAR-100 (``100``) python pickles of 32x32
    class images under ``root`` (the ``data_root`` of mmpretrain's CIFAR datasets)."""
    if num_classes not in (10, 100):
        raise ValueError('num_classes must be 10 (CIFAR-10) or 100 (CIFAR-100), '
                         f'got {num_classes}.')
    root = Path(root)
    rng = np.random.default_rng(seed)

    def batch(per_class: int) -> Tuple[np.ndarray, list]:
        labels = [label for label in range(num_classes) for _ in range(per_class)]
        images = [np.asarray(_class_image(label, num_classes, 32, rng)) for label in labels]
        # CIFAR rows: 1024 red, then 1024 green, then 1024 blue values.
        return np.stack([image.transpose(2, 0, 1).reshape(-1) for image in images]), labels

    def dump(path: Path, entry: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(entry))

    names = [f'class_{label:03d}' for label in range(num_classes)]
    if num_classes == 10:
        folder = root / 'cifar-10-batches-py'
        data, labels = batch(train_per_class)
        chunks = np.array_split(np.arange(len(labels)), 5)
        for number, chunk in enumerate(chunks, start=1):
            dump(folder / f'data_batch_{number}', {'data': data[chunk],
                                                   'labels': [labels[i] for i in chunk]})
        data, labels = batch(test_per_class)
        dump(folder / 'test_batch', {'data': data, 'labels': labels})
        dump(folder / 'batches.meta', {'label_names': names})
    else:
        folder = root / 'cifar-100-python'
        for split, per_class in (('train', train_per_class), ('test', test_per_class)):
            data, labels = batch(per_class)
            dump(folder / split, {'data': data, 'fine_labels': labels})
        dump(folder / 'meta', {'fine_label_names': names})
    return root


def _class_image(label: int, num_classes: int, size: int, rng) -> Image.Image:
    hue = np.array([np.cos(2 * np.pi * label / num_classes), np.sin(2 * np.pi * label / num_classes),
                    0.5]) * 80 + 128
    _, xs = np.mgrid[0:size, 0:size]
    stripes = np.sin((xs + rng.uniform(0, size)) * (label + 1) * np.pi / size)[..., None]
    image = hue + 40 * stripes + rng.normal(0, 12, (size, size, 3))
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def make_cityscapes_layout(root: str | os.PathLike, num_train: int = 4, num_val: int = 2,
                           size: Tuple[int, int] = (64, 128), seed: int = 0,
                           cities: Sequence[str] = ('aachen', 'bremen')) -> Path:
    """Write a Cityscapes-layout folder of simple street scenes (sky, buildings, vegetation,
    road, sidewalk, cars and people at varying positions and scales, textured and noisy)."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, count in (('train', num_train), ('val', num_val)):
        for index in range(count):
            city = cities[index % len(cities)]
            stem = f'{city}_{index:06d}_000019'
            image_dir = root / 'leftImg8bit' / split / city
            label_dir = root / 'gtFine' / split / city
            image_dir.mkdir(parents=True, exist_ok=True)
            label_dir.mkdir(parents=True, exist_ok=True)
            image, label_ids = street_scene(size, rng)
            Image.fromarray(image).save(image_dir / f'{stem}_leftImg8bit.png')
            Image.fromarray(label_ids).save(label_dir / f'{stem}_gtFine_labelIds.png')
            Image.fromarray(to_train_ids(label_ids)).save(
                label_dir / f'{stem}_gtFine_labelTrainIds.png')
    return root


def to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """Cityscapes label ids to train ids (everything not in the 19 classes -> 255)."""
    train_ids = np.full_like(label_ids, 255)
    for label_id, train_id in CITYSCAPES_ID_TO_TRAIN_ID.items():
        train_ids[label_ids == label_id] = train_id
    return train_ids


def street_scene(size: Tuple[int, int], rng) -> Tuple[np.ndarray, np.ndarray]:
    """One ``(H, W, 3)`` uint8 image and its ``(H, W)`` Cityscapes label-id map."""
    height, width = size
    labels = np.zeros((height, width), dtype=np.uint8)  # 0 = unlabeled
    horizon = int(height * rng.uniform(0.35, 0.55))
    labels[:horizon] = 23  # sky
    x = 0
    while x < width:  # a skyline of buildings and trees
        block = int(rng.uniform(0.08, 0.25) * width)
        top = int(rng.uniform(0.05, 0.9) * horizon)
        labels[top:horizon, x:x + block] = 11 if rng.random() < 0.7 else 21
        x += block
    labels[horizon:] = 7  # road
    curb = int(rng.uniform(0.15, 0.35) * width)
    ys = np.arange(horizon, height)[:, None]
    xs = np.arange(width)[None, :]
    left = xs < curb * (ys - horizon) / max(height - horizon, 1)
    labels[horizon:][left] = 8  # sidewalk widening towards the camera
    for _ in range(rng.integers(1, 4)):  # cars on the road, bigger when closer
        bottom = int(rng.uniform(horizon + 0.2 * (height - horizon), height))
        scale = (bottom - horizon) / max(height - horizon, 1)
        car_h, car_w = max(int(0.25 * height * scale), 2), max(int(0.3 * width * scale), 3)
        cx = int(rng.uniform(curb, width - car_w)) if width - car_w > curb else curb
        labels[max(bottom - car_h, 0):bottom, cx:cx + car_w] = 26
    for _ in range(rng.integers(0, 3)):  # people on the sidewalk
        bottom = int(rng.uniform(horizon + 0.1 * (height - horizon), height))
        scale = (bottom - horizon) / max(height - horizon, 1)
        person_h, person_w = max(int(0.35 * height * scale), 3), max(int(0.04 * width * scale), 1)
        px = int(rng.uniform(0, max(curb * scale, 1)))
        labels[max(bottom - person_h, 0):bottom, px:px + person_w] = 24
    image = np.zeros((height, width, 3), dtype=np.float64)
    for label_id, colour in _SCENE_COLOURS.items():
        image[labels == label_id] = colour
    texture = np.sin(np.arange(width)[None, :] * 0.9) * np.cos(np.arange(height)[:, None] * 0.7)
    image += 18 * texture[..., None] * (labels != 23)[..., None]
    image += rng.normal(0, 10, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), labels
