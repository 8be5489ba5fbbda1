"""Synthetic datasets in the real on-disk layouts."""
import numpy as np
from PIL import Image

from mmsr.datasets import make_cityscapes_layout, make_imagenet_layout
from mmsr.datasets.synthetic import CITYSCAPES_ID_TO_TRAIN_ID


def test_imagenet_layout(tmp_path):
    root = make_imagenet_layout(tmp_path, num_classes=3, train_per_class=2, val_per_class=1)
    train = (root / 'meta' / 'train.txt').read_text().split('\n')[:-1]
    val = (root / 'meta' / 'val.txt').read_text().split('\n')[:-1]
    assert len(train) == 6 and len(val) == 3
    assert train[0] == 'n00000000/n00000000_0.JPEG 0'
    assert val[-1] == 'ILSVRC2012_val_00000003.JPEG 2'
    assert Image.open(root / 'train' / 'n00000001' / 'n00000001_1.JPEG').size == (32, 32)


def test_cityscapes_layout_ids_and_train_ids(tmp_path):
    root = make_cityscapes_layout(tmp_path, num_train=2, num_val=1, size=(48, 96))
    images = sorted((root / 'leftImg8bit' / 'train').rglob('*_leftImg8bit.png'))
    assert len(images) == 2 and Image.open(images[0]).size == (96, 48)
    for ids_file in (root / 'gtFine').rglob('*_gtFine_labelIds.png'):
        ids = np.array(Image.open(ids_file))
        train_ids = np.array(Image.open(str(ids_file).replace('labelIds', 'labelTrainIds')))
        assert set(np.unique(ids)) <= set(CITYSCAPES_ID_TO_TRAIN_ID) | {0}
        for label_id, train_id in CITYSCAPES_ID_TO_TRAIN_ID.items():
            assert np.all(train_ids[ids == label_id] == train_id)
        assert np.all(train_ids[ids == 0] == 255)
        assert {7, 23} <= set(np.unique(ids))  # road and sky in every scene
