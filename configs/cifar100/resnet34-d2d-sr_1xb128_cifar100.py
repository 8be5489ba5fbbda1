# ResNet34 + D2D + SR on CIFAR-100 (Table I, row "R34 + D2D + SR"):
# resnet34-d2d_1xb128_cifar100.py plus the SR block after layer3, with the row's M=3 and P=6 (h=8,
# the paper's CIFAR width; an 8x8 memory for the 32x32 training input).
_base_ = './resnet34-d2d_1xb128_cifar100.py'
model = dict(backbone=dict(
    type='PluggedResNet_CIFAR',
    sr_cfg=dict(after_stage=3, num_memory_blocks=6, hidden_channels=8, input_size=(32, 32))))
