# VGG16-BN + SR on CIFAR-100 (Table I, row "VGG16 + SR"): vgg16bn_1xb128_cifar100.py plus the SR
# block after the 2nd max-pool, with the row's M=2 and P=8 (h=8, the paper's CIFAR width; an 8x8
# memory for the 32x32 training input).
_base_ = './vgg16bn_1xb128_cifar100.py'
model = dict(backbone=dict(
    type='PluggedVGG',
    sr_cfg=dict(after_stage=2, num_memory_blocks=8, hidden_channels=8, input_size=(32, 32))))
