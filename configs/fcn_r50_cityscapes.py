# FCN on Cityscapes, the paper's baseline (Table IV, row "F-CONV"): the stock MMSegmentation config
# with only mmsr's runner added, the baseline of fcn_r50_sr_cityscapes.py - FCN, ResNetV1c-50-d8
# (ImageNet-pretrained), SyncBN, 512x1024 crops, 4x2 images, SGD lr 0.01 momentum 0.9 wd 5e-4, poly
# LR (power 0.9, min 1e-4), 80k iterations, evaluation every 8k, auxiliary FCN head weight 0.4,
# decode-head dropout 0.1 (the paper's recipe).
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
runner_type = 'ResumableRunner'  # exact, kill-proof --resume (README, Guarantees)
