# ResNetV1c-50 + SR on ImageNet (not a paper row): the stock mmpretrain ResNetV1c-50 config (deep
# stem, its own 100-epoch schedule) plus the SR block after layer3 (M=3, P=10, h=16) - the
# backbone the Cityscapes models use, for pretraining it with SR.
_base_ = 'mmpretrain::resnet/resnetv1c50_8xb32_in1k.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
runner_type = 'ResumableRunner'  # exact, kill-proof --resume (README, Guarantees)
test_cfg = dict(type='CheckedTestLoop')  # checked test data under any runner (mmseg's test.py builds a plain Runner)
model = dict(backbone=dict(
    type='ResNetV1cSR',
    sr_cfg=dict(after_stage=3, num_memory_blocks=10, hidden_channels=16, input_size=(224, 224))))
