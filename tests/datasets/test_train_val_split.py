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
    """The two parts hold disjoint pictures that together are the whole training set, each
    with its own label, read through the stock CIFAR10 class."""
    from mmpretrain.datasets import CIFAR10
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        whole = CIFAR10(**{k: v for k, v in cifar10.items() if k != 'type'})
        train = TrainValSplit(dict(cifar10), part='train', val_fraction=0.1)
        val = TrainValSplit(dict(cifar10), part='val', val_fraction=0.1)
    assert (len(whole), len(train), len(val)) == (100, 90, 10)

    def pictures(dataset):
        return [(dataset.get_data_info(i)['img'].tobytes(),
                 int(dataset.get_data_info(i)['gt_label'])) for i in range(len(dataset))]

    everything = pictures(whole)
    assert len(set(everything)) == 100  # the generated pictures are all different
    train_pictures, val_pictures = set(pictures(train)), set(pictures(val))
    assert train_pictures.isdisjoint(val_pictures)
    assert train_pictures | val_pictures == set(everything)
    assert train.metainfo['classes'][0] == 'airplane'
    # ``val[i]`` is the whole set's picture at the i-th validation index, through the pipeline
    for i, index in enumerate(split_indices(100, 0.1, seed=0)['val']):
        assert (val[i]['img'].tobytes(), int(val[i]['gt_label'])) == everything[index]


@pytest.mark.parametrize('kwargs, message', [
    (dict(part='test'), 'part must be one of'),
    (dict(part='val', val_fraction=1.0), 'val_fraction must be in'),
])
def test_bad_arguments(cifar10, kwargs, message):
    with pytest.raises(ConfigError, match=message), \
            DefaultScope.overwrite_default_scope('mmpretrain'):
        TrainValSplit(dict(cifar10), **kwargs)
