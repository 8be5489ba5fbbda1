# ResNet34 + SR on CIFAR-10 (Table I): resnet34_1xb128_cifar10.py plus the SR block
# (M=4, P=2, h=8); the memory is sized for the 32x32 training input.
_base_ = './resnet34_1xb128_cifar10.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(
    type='ResNet_CIFAR_SR',
    sr_cfg=dict(after_stage=4, num_memory_blocks=2, hidden_channels=8, input_size=(32, 32))))
