# VGG16-BN + SR on CIFAR-10 (Table V, row "VGG16 + SR"): vgg16bn_1xb128_cifar10.py plus the SR
# block after the 4th max-pool, with the row's M=4 and P=8 (h=8, the paper's CIFAR width; a 2x2
# memory for the 32x32 training input).
_base_ = './vgg16bn_1xb128_cifar10.py'
model = dict(backbone=dict(
    type='PluggedVGG',
    sr_cfg=dict(after_stage=4, num_memory_blocks=8, hidden_channels=8, input_size=(32, 32))))
