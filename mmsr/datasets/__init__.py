from .synthetic import make_cityscapes_layout, make_imagenet_layout

__all__ = ['make_cityscapes_layout', 'make_imagenet_layout']
