# ResNet50 + SR on ImageNet, the drop-in form (not a paper row): the stock mmpretrain ResNet50
# config (100 epochs, 8x32 images) with only the backbone type, the SR block (M=3, P=10, h=16; a
# 14x14 memory for the 224x224 training crop) and custom_imports changed. Its baseline is the
# stock config itself, mmpretrain::resnet/resnet50_8xb32_in1k.py. The paper's rows (450 epochs,
# with dropout, dropout2d or DropBlock, other P) are in configs/imagenet/.
_base_ = 'mmpretrain::resnet/resnet50_8xb32_in1k.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
runner_type = 'ResumableRunner'  # exact, kill-proof --resume (README, Guarantees)
test_cfg = dict(type='CheckedTestLoop')  # checked test data under any runner (mmseg's test.py builds a plain Runner)
model = dict(
    backbone=dict(
        type='PluggedResNet',
        sr_cfg=dict(after_stage=3, num_memory_blocks=10, hidden_channels=16,
                    input_size=(224, 224))))
