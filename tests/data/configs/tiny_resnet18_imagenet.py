# The baseline of tiny_resnet18_sr_imagenet.py: the same config without its SR block.
_base_ = './tiny_resnet18_sr_imagenet.py'
model = dict(backbone=dict(sr_cfg=None))
