# VGG19-BN on CIFAR-10, the paper's baseline (Table II): vgg16bn_1xb128_cifar10.py with depth 19
# (the same head, recipe and data).
_base_ = './vgg16bn_1xb128_cifar10.py'
model = dict(backbone=dict(depth=19))
