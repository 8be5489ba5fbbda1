# The stock mmpretrain ResNet-18 ImageNet config, shrunk for CPU tests by overrides only:
# an SR block after stage 3, 32x32 inputs, 3 classes, 1 epoch. Pass the dataset folder with
# --cfg-options train_dataloader.dataset.data_root=... (and val/test).
_base_ = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
model = dict(
    backbone=dict(type='PluggedResNet', sr_cfg=dict(after_stage=3, num_memory_blocks=2,
                                                    hidden_channels=16, input_size=(32, 32))),
    head=dict(num_classes=3, topk=(1, )))
data_preprocessor = dict(num_classes=3)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=36, edge='short'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
metainfo = dict(classes=('n00000000', 'n00000001', 'n00000002'))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline, metainfo=metainfo))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=test_pipeline, metainfo=metainfo))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
