"""mmsr.datasets.data_paths and .nested: the folders and files a dataset config names are
checked before it is built, through wrappers, with the config key to set."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mmsr.datasets import check_dataset_paths, make_cityscapes_layout, nested_datasets
from mmsr.errors import DataNotFoundError

REPO = Path(__file__).resolve().parents[2]
FCN_SR = str(REPO / 'configs' / 'fcn_r50_sr_cityscapes.py')


def check_train(cfg):
    check_dataset_paths(cfg.train_dataloader.dataset, 'train_dataloader.dataset')


def test_nested_datasets_walks_wrappers_of_configs_and_objects():
    leaf = dict(type='CIFAR10', data_root='a')
    cfg = dict(type='ConcatDataset', datasets=[
        dict(type='RepeatDataset', times=2, dataset=leaf), dict(type='CIFAR100')])
    assert [k for k, _ in nested_datasets(cfg, 'd')] == [
        'd', 'd.datasets.0', 'd.datasets.0.dataset', 'd.datasets.1']
    assert [(k, d['type']) for k, d in nested_datasets(cfg, 'd', leaves_only=True)] == [
        ('d.datasets.0.dataset', 'CIFAR10'), ('d.datasets.1', 'CIFAR100')]

    class Built:
        def __init__(self, **children):
            self.__dict__.update(children)

    inner = Built()
    built = Built(datasets=[Built(dataset=inner)])
    assert [(k, d) for k, d in nested_datasets(built, 'x', leaves_only=True)] == [
        ('x.datasets.0.dataset', inner)]
    assert list(nested_datasets(None, 'x')) == []


def test_missing_dataset_folder_names_the_key_to_set(tmp_path):
    cfg = Config.fromfile(FCN_SR)
    with pytest.raises(DataNotFoundError) as error:
        check_train(cfg)
    assert "data_root='data/cityscapes/' does not exist" in str(error.value)
    assert '(README, "Data preparation")' in str(error.value)
    assert '\n## Data preparation\n' in (REPO / 'README.md').read_text()
    assert '--cfg-options train_dataloader.dataset.data_root=' in str(error.value)


def test_missing_subfolder_and_wrapped_datasets(tmp_path):
    root = make_cityscapes_layout(tmp_path / 'cityscapes', num_train=1, num_val=1)
    cfg = Config.fromfile(FCN_SR)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(root)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        check_dataset_paths(cfg[loader].dataset, f'{loader}.dataset')
    cfg.train_dataloader.dataset.data_prefix.seg_map_path = 'gtCoarse/train'
    with pytest.raises(DataNotFoundError, match=r'data_prefix\.seg_map_path'):
        check_train(cfg)
    cfg.train_dataloader.dataset = dict(type='RepeatDataset', times=2,
                                        dataset=dict(type='CityscapesDataset',
                                                     data_root=str(tmp_path / 'nowhere')))
    with pytest.raises(DataNotFoundError,
                       match=r'train_dataloader\.dataset\.dataset\.data_root=/path'):
        check_train(cfg)


def test_cifar_needs_its_pickle_folder_unless_it_downloads(tmp_path):
    cfg = Config.fromfile(str(REPO / 'configs' / 'cifar10' / 'resnet18-sr_1xb128_cifar10.py'))
    cfg.test_dataloader.dataset.data_root = str(tmp_path)
    with pytest.raises(DataNotFoundError, match='cifar-10-batches-py'):
        check_dataset_paths(cfg.test_dataloader.dataset, 'test_dataloader.dataset')
    cfg.test_dataloader.dataset.download = True
    check_dataset_paths(cfg.test_dataloader.dataset, 'test_dataloader.dataset')
