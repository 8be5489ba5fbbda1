# The paper's ImageNet schedule (Section IV-B, Appendix VII-B): SGD, 450 epochs (dropout2d needs
# long training), the learning rate reduced at five epochs, the PyTorch ImageNet example's
# augmentation (mmpretrain's imagenet_bs32 pipeline), four 1080Ti GPUs. Its momentum, learning
# rate, the five epochs and the factor, the weight decay and the batch size are not stated in
# its text. Ours: momentum 0.9, lr 0.1 and batch 256 (the PyTorch example's), here as 8 GPUs x
# 32 images (4 x 64 is the same batch), x0.2 at epochs 90, 180, 270, 360 and 420, weight decay 1e-4
# (the PyTorch example's).
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[90, 180, 270, 360, 420],
                       gamma=0.2)
train_cfg = dict(by_epoch=True, max_epochs=450, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
