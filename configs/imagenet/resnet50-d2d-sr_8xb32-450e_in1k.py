# ResNet50 + D2D + SR on ImageNet (Table III): resnet50-d2d_8xb32-450e_in1k.py plus the SR block
# (M=3, P=10, h=16). The paper's headline model (+0.52% top-1 over + D2D;
# the model of its analyses, Figures 2-7).
_base_ = './resnet50-d2d_8xb32-450e_in1k.py'
model = dict(backbone=dict(
    type='ResNetSR',
    sr_cfg=dict(after_stage=3, num_memory_blocks=10, hidden_channels=16, input_size=(224, 224))))
