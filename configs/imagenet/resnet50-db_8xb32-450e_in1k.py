# ResNet50 + DB on ImageNet (Table III, row "R50 + DB"): resnet50_8xb32-450e_in1k.py with
# DropBlock p=0.1 (block size 7) on the outputs of stages 3 and 4. The paper does not give the
# regularisers' rates; ours: D p=0.3 before the classifier, D2D p=0.1 and DB p=0.1 after stages 3
# and 4.
_base_ = './resnet50_8xb32-450e_in1k.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(
    type='PluggedResNet',
    stage_dropout_cfg=dict(type='DropBlock', p=0.1, block_size=7, after_stages=(3, 4))))
