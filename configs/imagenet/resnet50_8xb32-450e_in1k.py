# ResNet50 on ImageNet (Table III, row "R50"), the paper's baseline: mmpretrain's ResNet50 and
# ImageNet pipeline (the PyTorch ImageNet example's augmentation) with the paper's 450-epoch
# schedule. Other seeds: --cfg-options randomness.seed=N.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py', 'mmpretrain::_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_bs256_450e.py', 'mmpretrain::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
runner_type = 'ResumableRunner'  # exact, kill-proof --resume (README, Guarantees)
test_cfg = dict(type='CheckedTestLoop')  # checked test data under any runner (mmseg's test.py builds a plain Runner)
