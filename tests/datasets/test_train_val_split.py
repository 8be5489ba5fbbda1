"""TrainValSplit: the paper's fixed 90/10 split of a training set, on the stock CIFAR class."""
import pytest
from mmengine.registry import DefaultScope

from mmsr.datasets import TrainValSplit, make_cifar_layout
from mmsr.datasets.train_val_split import split_indices
from mmsr.errors import ConfigError


def test_split_indices_are_disjoint_cover_and_seeded():
    parts = split_indices(1000, 0.1, seed=0)
    assert len(parts['val']) == 100 and len(parts['train']) == 900
    assert sorted(parts['val'] + parts['train']) == list(range(1000))
    assert split_indices(1000, 0.1, seed=0) == parts
    assert split_indices(1000, 0.1, seed=1)['val'] != parts['val']


@pytest.fixture
def cifar10(tmp_path, monkeypatch):
    from mmpretrain.datasets import CIFAR10
    # Generated pickles cannot match the real archive's md5 sums; only those are cleared.
    monkeypatch.setattr(CIFAR10, 'train_list', [[n, None] for n, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, 'test_list', [[n, None] for n, _ in CIFAR10.test_list])
    monkeypatch.setattr(CIFAR10, 'meta', dict(CIFAR10.meta, md5=None))
    return dict(type='CIFAR10', data_root=str(make_cifar_layout(tmp_path, 10, 10, 1)),
                split='train', download=False)


def test_parts_of_stock_cifar(cifar10):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        train = TrainValSplit(dict(cifar10), part='train', val_fraction=0.1)
        val = TrainValSplit(dict(cifar10), part='val', val_fraction=0.1)
    assert (len(train), len(val)) == (90, 10)
    assert set(train.indices).isdisjoint(val.indices)
    assert train.metainfo['classes'][0] == 'airplane'
    assert val[0]['gt_label'] == val.get_data_info(0)['gt_label']


@pytest.mark.parametrize('kwargs, message', [
    (dict(part='test'), 'part must be one of'),
    (dict(part='val', val_fraction=1.0), 'val_fraction must be in'),
])
def test_bad_arguments(cifar10, kwargs, message):
    with pytest.raises(ConfigError, match=message), \
            DefaultScope.overwrite_default_scope('mmpretrain'):
        TrainValSplit(dict(cifar10), **kwargs)
