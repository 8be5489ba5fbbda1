# ResNet34 on CIFAR-100 (Table I, row "R34"), the paper's baseline: mmpretrain's CIFAR ResNet (3x3
# stem, no max-pool) with the paper's recipe - 90/10 train/val split, best-on-val checkpoint, test
# set reported, initialised as the paper says (Kaiming uniform convolutions and classifier;
# ../_base_/models/cifar_paper_init.py). Other seeds: --cfg-options randomness.seed=N.
_base_ = [
    'mmpretrain::_base_/models/resnet34_cifar.py', '../_base_/datasets/cifar100_bs128_trainval.py',
    '../_base_/schedules/cifar100_bs128_200e.py', 'mmpretrain::_base_/default_runtime.py',
    '../_base_/models/cifar_paper_init.py'
]
runner_type = 'ResumableRunner'  # exact, kill-proof --resume (README, Guarantees)
test_cfg = dict(type='CheckedTestLoop')  # checked test data under any runner (mmseg's test.py builds a plain Runner)
model = dict(backbone=dict(zero_init_residual=False, init_cfg=_base_.cifar_paper_init.resnet),
             head=dict(num_classes=100, init_cfg=_base_.cifar_paper_init.linear))
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1,
                                     save_best='accuracy/top1', rule='greater'))
