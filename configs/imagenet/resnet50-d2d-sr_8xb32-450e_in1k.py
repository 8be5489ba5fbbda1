# ResNet50 + D2D + SR on ImageNet (Table III, row "R50 + D2D + SR", P=10):
# resnet50-d2d_8xb32-450e_in1k.py plus the SR block after layer3, with the row's M=3 and P=10
# (h=16, the paper's ImageNet width; a 14x14 memory for the 224x224 training crop). The model of
# the paper's analyses (Figures 2-7) and of its ablation: removing the SR block from it costs 0.4%
# top-1.
_base_ = './resnet50-d2d_8xb32-450e_in1k.py'
model = dict(backbone=dict(
    type='PluggedResNet',
    sr_cfg=dict(after_stage=3, num_memory_blocks=10, hidden_channels=16, input_size=(224, 224))))
