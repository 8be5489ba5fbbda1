# ResNet34 + SE on CIFAR-100 (Table V): resnet34_1xb128_cifar100.py with SE
# (reduction 16) in every residual block, on the residual branch before the addition.
_base_ = './resnet34_1xb128_cifar100.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(type='ResNet_CIFAR_SR', attention_cfg=dict(type='SE', ratio=16)))
