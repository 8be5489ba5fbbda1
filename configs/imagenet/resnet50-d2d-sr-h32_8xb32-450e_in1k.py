# ResNet50 + D2D + SR, h=32, on ImageNet (Table III): resnet50-d2d-sr_8xb32-450e_in1k.py with h=32
# hidden neurons (the paper tried 16 and 32 on ImageNet).
_base_ = './resnet50-d2d-sr_8xb32-450e_in1k.py'
model = dict(backbone=dict(sr_cfg=dict(hidden_channels=32)))
