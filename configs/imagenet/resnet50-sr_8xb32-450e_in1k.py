# ResNet50 + SR on ImageNet (Table III, row "R50 + SR", P=10): resnet50_8xb32-450e_in1k.py plus
# the SR block after layer3, with the row's M=3 and P=10 (h=16, the paper's ImageNet width; a
# 14x14 memory for the 224x224 training crop).
_base_ = './resnet50_8xb32-450e_in1k.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(backbone=dict(
    type='PluggedResNet',
    sr_cfg=dict(after_stage=3, num_memory_blocks=10, hidden_channels=16, input_size=(224, 224))))
