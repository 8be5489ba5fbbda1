# DeepLabV3 + SR on Cityscapes (Table IV): deeplabv3_r50_cityscapes.py with only the backbone
# type and sr_cfg changed (the paper's M=2, P=2). The paper does not state h for Cityscapes;
# we use h=16 (its ImageNet value). The memory is sized for the 512x1024 training crop (64x128
# after layer2 of the d8 ResNet); whole-image (1024x2048) and multi-scale testing resample it
# (see README).
_base_ = './deeplabv3_r50_cityscapes.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='ResNetV1cSR',
        sr_cfg=dict(after_stage=2, num_memory_blocks=2, hidden_channels=16,
                    input_size=(512, 1024))))
