# ResNet50 + D2D + SR on ImageNet (Table III, row "R50 + D2D + SR", P=20):
# resnet50-d2d-sr_8xb32-450e_in1k.py (P=10) with the row's P=20 memory blocks (M=3, h=16).
_base_ = './resnet50-d2d-sr_8xb32-450e_in1k.py'
model = dict(backbone=dict(sr_cfg=dict(num_memory_blocks=20)))
