# ResNet50 + CBAM on CIFAR-10 (Table V): resnet50_1xb128_cifar10.py with CBAM
# (reduction 16) in every residual block, on the residual branch before the addition.
_base_ = './resnet50_1xb128_cifar10.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(type='ResNet_CIFAR_SR', attention_cfg=dict(type='CBAM', ratio=16)))
