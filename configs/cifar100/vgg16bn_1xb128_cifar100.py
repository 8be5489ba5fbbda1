# VGG16-BN on CIFAR-100 (Table I, row "VGG16"), the paper's baseline: mmpretrain's VGG16 with BN
# for 32x32 inputs - the convolutional stages, global average pooling (the map is 1x1), and
# dropout only in the fully connected part (the paper's "dropout only in their FC layers"; our
# choice: one classifier layer after dropout p=0.5). Same recipe as the ResNets; initialised as the
# paper says for VGG (Gaussian convolutions, Kaiming uniform classifier;
# ../_base_/models/cifar_paper_init.py).
_base_ = [
    'mmpretrain::_base_/models/vgg16bn.py', '../_base_/datasets/cifar100_bs128_trainval.py',
    '../_base_/schedules/cifar100_bs128_200e.py', 'mmpretrain::_base_/default_runtime.py',
    '../_base_/models/cifar_paper_init.py'
]
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
runner_type = 'ResumableRunner'  # exact, kill-proof --resume (README, Guarantees)
test_cfg = dict(type='CheckedTestLoop')  # checked test data under any runner (mmseg's test.py builds a plain Runner)
model = dict(
    backbone=dict(num_classes=-1, out_indices=(4, ), init_cfg=_base_.cifar_paper_init.vgg),
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(_delete_=True, type='DropoutLinearClsHead', num_classes=100, in_channels=512,
              dropout_rate=0.5, loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
              init_cfg=_base_.cifar_paper_init.linear))
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1,
                                     save_best='accuracy/top1', rule='greater'))
