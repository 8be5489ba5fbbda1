"""Dataset helpers: ``TrainValSplit`` (registered in mmengine's root ``DATASETS``) and the
synthetic datasets in real on-disk layouts used by the tests and the demo."""
from .synthetic import make_cifar_layout, make_cityscapes_layout, make_imagenet_layout
from .train_val_split import TrainValSplit

__all__ = ['TrainValSplit', 'make_cifar_layout', 'make_cityscapes_layout', 'make_imagenet_layout']
