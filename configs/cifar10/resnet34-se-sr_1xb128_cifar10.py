# ResNet34 + SE + SR on CIFAR-10 (Table V): resnet34-se_1xb128_cifar10.py plus the
# SR block (M=4, P=2, h=8).
_base_ = './resnet34-se_1xb128_cifar10.py'
model = dict(backbone=dict(
    sr_cfg=dict(after_stage=4, num_memory_blocks=2, hidden_channels=8, input_size=(32, 32))))
