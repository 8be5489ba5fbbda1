# ResNet50 + CBAM on CIFAR-100 (Table II, row "ResNet50 + CBAM"): resnet50_1xb128_cifar100.py with
# CBAM (reduction 16) in every residual block, on the residual branch before the addition. Its
# channel MLP has no biases (mlp_bias=False): the variant the paper's printed overheads fit (Table
# II: 0.78%, 0.74%, 10.61% for ResNet18/34/50; with biases they would be 0.80%, 0.76%, 10.68%).
_base_ = './resnet50_1xb128_cifar100.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(
    type='PluggedResNet_CIFAR', attention_cfg=dict(type='CBAM', ratio=16, mlp_bias=False)))
