"""Broken dataset files fail with one line naming the file and the dataset key (mmseg's
Cityscapes and mmpretrain's ImageNet, in their real on-disk layouts)."""
import os
import re

import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from mmsr.datasets import make_cityscapes_layout, make_imagenet_layout
from mmsr.datasets.checked_loading import CheckedLoading, check_loading
from mmsr.errors import DataError, DataNotFoundError

KEY = 'train_dataloader.dataset'


def cityscapes(root):
    init_default_scope('mmseg')
    from mmseg.datasets import CityscapesDataset
    dataset = CityscapesDataset(
        data_root=str(root), data_prefix=dict(img_path='leftImg8bit/train',
                                              seg_map_path='gtFine/train'),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')])
    check_loading(dataset, KEY)
    return dataset


def imagenet(root):
    init_default_scope('mmpretrain')
    from mmpretrain.datasets import ImageNet
    dataset = ImageNet(data_root=str(root), split='train',
                       pipeline=[dict(type='LoadImageFromFile')])
    check_loading(dataset, KEY)
    return dataset


@pytest.fixture
def city(tmp_path):
    return make_cityscapes_layout(tmp_path / 'cityscapes', num_train=2, num_val=1)


def test_loading_transforms_are_wrapped_once(city):
    dataset = cityscapes(city)
    check_loading(dataset, KEY)
    assert [type(t) for t in dataset.pipeline.transforms] == [CheckedLoading] * 2
    assert all(not isinstance(t.transform, CheckedLoading) for t in dataset.pipeline.transforms)
    assert dataset[0]['gt_seg_map'].shape == dataset[0]['img'].shape[:2]


@pytest.mark.parametrize('damage, error, message', [
    ('empty image', DataError, 'image {image} is empty (0 bytes)'),
    ('corrupt image', DataError, 'image {image} cannot be read (failed to load image: {image}); '
                                 'replace the file or remove it from the dataset'),
    ('missing labels', DataNotFoundError, 'label map {labels} does not exist'),
    ('small labels', DataError, 'label map {labels} is 32x64 but its image {image} is 64x128 '
                                "(height x width); a label map must have its image's size"),
])
def test_broken_cityscapes_files(city, damage, error, message):
    dataset = cityscapes(city)
    info = dataset.get_data_info(1)
    image, labels = info['img_path'], info['seg_map_path']
    if damage == 'empty image':
        open(image, 'wb').close()
    elif damage == 'corrupt image':
        with open(image, 'wb') as f:
            f.write(b'not a png' * 100)
    elif damage == 'missing labels':
        os.remove(labels)
    else:
        Image.open(labels).resize((64, 32)).save(labels)
    dataset[0]  # the other sample is fine
    with pytest.raises(error) as exc:
        dataset[1]
    assert str(exc.value) == f'{KEY}: ' + message.format(image=image, labels=labels)


def test_an_imagenet_meta_line_naming_a_missing_file(tmp_path):
    root = make_imagenet_layout(tmp_path / 'imagenet', num_classes=2, train_per_class=3)
    missing = root / 'train' / 'n00000001' / 'n00000001_1.JPEG'
    missing.unlink()
    dataset = imagenet(root)
    index = next(i for i in range(len(dataset))
                 if dataset.get_data_info(i)['img_path'] == str(missing))
    with pytest.raises(DataNotFoundError) as exc:
        dataset[index]
    assert str(exc.value) == (f'{KEY}: image {missing} does not exist (named by line 5 of '
                              f'{root / "meta" / "train.txt"})')
    assert re.match(r'n00000001/n00000001_1\.JPEG 1$',
                    (root / 'meta' / 'train.txt').read_text().splitlines()[4])
