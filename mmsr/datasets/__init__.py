"""Datasets and their checks: ``TrainValSplit`` (registered in mmengine's root ``DATASETS``),
the checks a run makes of its data (:func:`check_dataset_paths` before a dataset is built,
:func:`check_loading` while it loads), and the synthetic datasets in real on-disk layouts used
by the tests and the demo."""
from .checked_loading import check_loading
from .data_paths import check_dataset_paths
from .nested import nested_datasets
from .synthetic import make_cifar_layout, make_cityscapes_layout, make_imagenet_layout
from .train_val_split import TrainValSplit

__all__ = ['TrainValSplit', 'check_dataset_paths', 'check_loading', 'nested_datasets',
           'make_cifar_layout', 'make_cityscapes_layout', 'make_imagenet_layout']
