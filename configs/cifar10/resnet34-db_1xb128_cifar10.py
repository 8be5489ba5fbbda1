# ResNet34 + DB on CIFAR-10 (Table V, row "R34 + DB"): resnet34_1xb128_cifar10.py with DropBlock
# p=0.1 (block size 3) on the outputs of stages 3 and 4. The paper does not give the regularisers'
# rates; ours: D p=0.3 before the classifier, D2D p=0.1 and DB p=0.1 after stages 3 and 4.
_base_ = './resnet34_1xb128_cifar10.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(
    type='PluggedResNet_CIFAR',
    stage_dropout_cfg=dict(type='DropBlock', p=0.1, block_size=3, after_stages=(3, 4))))
