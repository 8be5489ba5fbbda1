# CIFAR-10 as the paper uses it: 90% of the training set to train, the other 10% to validate
# (and keep the best checkpoint), the test set to report. The split is a fixed, seeded
# permutation (mmsr's TrainValSplit, seed 0). Batch 128 on one GPU; crop 32 pad 4 + flip.
_base_ = 'mmpretrain::_base_/datasets/cifar10_bs16.py'
custom_imports = dict(imports=['mmsr'], allow_failed_imports=False)
dataset_type = 'CIFAR10'
data_root = 'data/cifar10'
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=128,
    dataset=dict(_delete_=True, type='TrainValSplit', part='train', val_fraction=0.1, seed=0,
                 dataset=dict(type=dataset_type, data_root=data_root, split='train',
                              download=False, pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=128,
    dataset=dict(_delete_=True, type='TrainValSplit', part='val', val_fraction=0.1, seed=0,
                 dataset=dict(type=dataset_type, data_root=data_root, split='train',
                              download=False, pipeline=test_pipeline)))
test_dataloader = dict(
    batch_size=128, num_workers=2,
    dataset=dict(type=dataset_type, data_root=data_root, split='test', download=False,
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_evaluator = dict(type='Accuracy', topk=(1, ))
