# FCN + SR on Cityscapes (Table IV): fcn_r50_cityscapes.py with only the backbone type and
# sr_cfg changed (the paper's M=2, P=3). h=16 is our choice (the paper does not state it for
# Cityscapes). The memory is sized for the 512x1024 training crop (64x128 after layer2 of the
# d8 ResNet).
_base_ = './fcn_r50_cityscapes.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='ResNetV1cSR',
        sr_cfg=dict(after_stage=2, num_memory_blocks=3, hidden_channels=16,
                    input_size=(512, 1024))))
