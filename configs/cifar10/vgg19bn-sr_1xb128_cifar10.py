# VGG19-BN + SR on CIFAR-10 (Table V, row "VGG19 + SR"): vgg19bn_1xb128_cifar10.py plus the SR
# block after the 2nd max-pool, with the row's M=2 and P=12 (h=8, the paper's CIFAR width; an 8x8
# memory for the 32x32 training input).
_base_ = './vgg19bn_1xb128_cifar10.py'
model = dict(backbone=dict(
    type='PluggedVGG',
    sr_cfg=dict(after_stage=2, num_memory_blocks=12, hidden_channels=8, input_size=(32, 32))))
