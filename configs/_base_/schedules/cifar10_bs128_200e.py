# The paper's CIFAR-10 schedule (Appendix VII-A): SGD momentum 0.9, lr 0.1, batch 128, lr x0.1
# at epochs 90 and 136. The paper's weight decay and epoch count are not stated in its text; we
# use 1e-4 (the value of its reference [14], He et al.) and 200 epochs (as ours for CIFAR-100).
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[90, 136], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
