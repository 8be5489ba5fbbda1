# ResNet18 + SE on CIFAR-100 (Table II, row "ResNet18 + SE"): resnet18_1xb128_cifar100.py with SE
# (reduction 16) in every residual block, on the residual branch before the addition. Its squeeze
# width is exactly C/16 (divisor=1; mmpretrain's SELayer otherwise rounds it up to a multiple of
# 8): the width the paper's printed overheads fit (Table II: 0.79%, 0.76%, 10.68% for
# ResNet18/34/50).
_base_ = './resnet18_1xb128_cifar100.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(
    type='PluggedResNet_CIFAR', attention_cfg=dict(type='SELayer', ratio=16, divisor=1)))
