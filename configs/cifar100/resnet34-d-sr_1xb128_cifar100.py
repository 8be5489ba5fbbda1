# ResNet34 + D + SR on CIFAR-100 (Table I): resnet34-d_1xb128_cifar100.py
# plus the SR block (M=4, P=2, h=8).
_base_ = './resnet34-d_1xb128_cifar100.py'
model = dict(backbone=dict(
    type='ResNet_CIFAR_SR',
    sr_cfg=dict(after_stage=4, num_memory_blocks=2, hidden_channels=8, input_size=(32, 32))))
