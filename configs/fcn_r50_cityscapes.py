# FCN on Cityscapes, the paper's baseline (Table IV, row "F-CONV"): the stock MMSegmentation config
# with only mmsr's runner and the paper's test added, the baseline of fcn_r50_sr_cityscapes.py.
# The paper's recipe (Appendix VII-C): FCN on ResNet50 (ours: mmseg's ResNetV1c-50-d8,
# ImageNet-pretrained), SyncBN, 4 GPUs, SGD lr 0.01 momentum 0.9 wd 5e-4, poly LR (power 0.9, min
# 1e-4), 80k iterations, evaluation every 8k, auxiliary FCN head weight 0.4, dropout 0.1. Ours
# (mmseg's, not in the text): 512x1024 crops, 2 images per GPU.
_base_ = ['mmseg::fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py',
          './_base_/datasets/cityscapes_multiscale_flip_test.py']
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
runner_type = 'ResumableRunner'  # exact, kill-proof --resume (README, Guarantees)
test_cfg = dict(type='CheckedTestLoop')  # checked test data under any runner (mmseg's test.py builds a plain Runner)
# The paper's test: multi-scale flip, `tools/test.py CONFIG CKPT --tta` (the scales: the base above)
tta_pipeline = _base_.multiscale_flip_pipeline
