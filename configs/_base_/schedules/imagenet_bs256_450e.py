# The paper's ImageNet schedule (Appendix VII-B), 450 epochs because dropout2d needs long
# training. SGD momentum 0.9, batch 256 (8 GPUs x 32), the PyTorch ImageNet example's
# augmentation (mmpretrain's imagenet_bs32 pipeline). The learning rate, its five decay epochs
# and factor, and the weight decay were lost from the paper's text. Our choice: lr 0.1 (the
# PyTorch example's, for batch 256), x0.2 at epochs 90, 180, 270, 360 and 420, weight decay
# 1e-4 (the PyTorch example's).
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[90, 180, 270, 360, 420],
                       gamma=0.2)
train_cfg = dict(by_epoch=True, max_epochs=450, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
