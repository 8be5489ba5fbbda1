# VGG19-BN + SR on CIFAR-10 (Table II): vgg19bn_1xb128_cifar10.py plus the SR block after
# the 4th max-pool (M=4, P=4, h=8, 2x2 memory at 32x32 input).
_base_ = './vgg19bn_1xb128_cifar10.py'
model = dict(backbone=dict(
    type='VGGSR',
    sr_cfg=dict(after_stage=4, num_memory_blocks=4, hidden_channels=8, input_size=(32, 32))))
