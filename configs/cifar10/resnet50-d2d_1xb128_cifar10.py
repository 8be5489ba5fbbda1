# ResNet50 + D2D on CIFAR-10 (Table V, row "R50 + D2D"): resnet50_1xb128_cifar10.py with dropout2d
# p=0.1 on the outputs of stages 3 and 4. The paper does not give the regularisers' rates; ours: D
# p=0.3 before the classifier, D2D p=0.1 and DB p=0.1 after stages 3 and 4.
_base_ = './resnet50_1xb128_cifar10.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(
    type='PluggedResNet_CIFAR',
    stage_dropout_cfg=dict(type='Dropout2d', p=0.1, after_stages=(3, 4))))
