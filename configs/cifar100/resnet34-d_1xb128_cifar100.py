# ResNet34 + D on CIFAR-100 (Table I, row "R34 + D"): resnet34_1xb128_cifar100.py with dropout
# p=0.3 on the pooled features before the classifier (DropoutLinearClsHead). The paper does not
# give the regularisers' rates; ours: D p=0.3 before the classifier, D2D p=0.1 and DB p=0.1 after
# stages 3 and 4.
_base_ = './resnet34_1xb128_cifar100.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(head=dict(type='DropoutLinearClsHead', dropout_rate=0.3))
