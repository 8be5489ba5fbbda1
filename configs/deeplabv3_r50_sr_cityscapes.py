# DeepLabV3 + SR on Cityscapes (Table IV, row "DLv3 + SR"): deeplabv3_r50_cityscapes.py with only
# the backbone type and sr_cfg changed. The paper's "M=2, P=2": it ran Cityscapes in
# MMSegmentation, which counts stages from 0, so M=2 is the block after layer3 (after_stage=3 here,
# counted from 1). That placement reproduces the printed overhead to every digit: at the 512x1024
# training crop layer3 of the d8 ResNet gives C=1024 at 64x128, and with P=2, h=16 the block adds
# 2*1024*64*128 + 1025 + (8192*16 + 16) + (16*2 + 2) = 16,909,363 parameters to DeepLabV3's
# 68,113,030: +24.825%, printed +24.83%. (After layer2 it would add 12.51%, which the paper
# prints nowhere; configs/cityscapes/deeplabv3_r50_sr-layer2_cityscapes.py has the block there.)
# The paper does not state h for Cityscapes; h=16 (its ImageNet width) is the one that
# reproduces 24.83% (h=32 gives 25.02%). Whole-image (1024x2048) and multi-scale testing resample
# the memory (docs/usage.md, "Other input sizes").
_base_ = './deeplabv3_r50_cityscapes.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='ResNetV1cSR',
        sr_cfg=dict(after_stage=3, num_memory_blocks=2, hidden_channels=16,
                    input_size=(512, 1024))))
