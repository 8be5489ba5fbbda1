# The paper's CIFAR-100 schedule (Appendix VII-A): SGD momentum 0.9, lr 0.1, batch 128, lr x0.2 at
# epochs 60, 120 and 160. The paper's weight decay and epoch count are not stated in its text;
# ours: 5e-4 and 200 epochs, as in the widely used CIFAR-100 recipe with these same steps.
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[60, 120, 160], gamma=0.2)
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
