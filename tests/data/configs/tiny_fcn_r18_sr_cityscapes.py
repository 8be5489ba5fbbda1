# The stock mmseg Cityscapes FCN config, shrunk for CPU tests by overrides only: ResNetV1c-18
# with an SR block after stage 2, BN, 64x128 crops, 4 iterations. Pass the dataset folder with
# --cfg-options train_dataloader.dataset.data_root=... (and val/test).
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
crop_size = (64, 128)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(
        type='ResNetV1cSR', depth=18, norm_cfg=norm_cfg,
        sr_cfg=dict(after_stage=2, num_memory_blocks=3, hidden_channels=16,
                    input_size=crop_size)),
    decode_head=dict(in_channels=512, channels=32, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=16, norm_cfg=norm_cfg))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 64), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=4, val_interval=4)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=4, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
