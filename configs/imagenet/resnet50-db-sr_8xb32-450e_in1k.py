# ResNet50 + DB + SR on ImageNet (Table III, row "R50 + DB + SR", P=8):
# resnet50-db_8xb32-450e_in1k.py plus the SR block after layer3, with the row's M=3 and P=8 (h=16,
# the paper's ImageNet width; a 14x14 memory for the 224x224 training crop).
_base_ = './resnet50-db_8xb32-450e_in1k.py'
model = dict(backbone=dict(
    type='PluggedResNet',
    sr_cfg=dict(after_stage=3, num_memory_blocks=8, hidden_channels=16, input_size=(224, 224))))
