# ResNet50 + D2D + SR, P=8, on ImageNet (Table III): resnet50-d2d-sr_8xb32-450e_in1k.py (P=10)
# with P=8 memory blocks, one of the paper's P variants.
_base_ = './resnet50-d2d-sr_8xb32-450e_in1k.py'
model = dict(backbone=dict(sr_cfg=dict(num_memory_blocks=8)))
