# ResNet50 + SE + SR on CIFAR-10 (Table V): resnet50-se_1xb128_cifar10.py plus the
# SR block (M=3, P=6, h=8).
_base_ = './resnet50-se_1xb128_cifar10.py'
model = dict(backbone=dict(
    sr_cfg=dict(after_stage=3, num_memory_blocks=6, hidden_channels=8, input_size=(32, 32))))
