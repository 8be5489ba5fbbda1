# ResNet34 + SR on CIFAR-10 (Table V, row "R34 + SR"): resnet34_1xb128_cifar10.py plus the SR
# block after layer3, with the row's M=3 and P=8 (h=8, the paper's CIFAR width; an 8x8 memory for
# the 32x32 training input).
_base_ = './resnet34_1xb128_cifar10.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(
    type='PluggedResNet_CIFAR',
    sr_cfg=dict(after_stage=3, num_memory_blocks=8, hidden_channels=8, input_size=(32, 32))))
