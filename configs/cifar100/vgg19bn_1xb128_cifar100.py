# VGG19-BN on CIFAR-100 (Table I, row "VGG19"), the paper's baseline: vgg16bn_1xb128_cifar100.py
# with depth 19 (the same head, recipe and data).
_base_ = './vgg16bn_1xb128_cifar100.py'
model = dict(backbone=dict(depth=19))
