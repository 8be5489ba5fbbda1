# ResNet50 + DB + SR on CIFAR-100 (Table I, row "R50 + DB + SR"): resnet50-db_1xb128_cifar100.py
# plus the SR block after layer4, with the row's M=4 and P=4 (h=8, the paper's CIFAR width; a 4x4
# memory for the 32x32 training input).
_base_ = './resnet50-db_1xb128_cifar100.py'
model = dict(backbone=dict(
    type='PluggedResNet_CIFAR',
    sr_cfg=dict(after_stage=4, num_memory_blocks=4, hidden_channels=8, input_size=(32, 32))))
