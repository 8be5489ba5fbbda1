# The paper's CIFAR initialisation (Appendix VII-A): "Kaiming uniform [33], with VGG's linear
# layers similarly initialized and its convolutional layers set to a Gaussian distribution". The
# CIFAR configs take it as init_cfg (the SR block keeps its own: uniform +-1/sqrt(fan_in), zero
# memory). Kaiming uniform: [33]'s variance 2 / fan_in for ReLU networks as U(-b, b),
# b = sqrt(6 / fan_in); biases 0. The paper does not state the Gaussian's mean and std; ours:
# N(0, sqrt(2 / n)), n = k*k*out_channels (Kaiming normal, fan_out), the Gaussian of [33] as the
# VGG implementations use it (torchvision's, the common CIFAR VGG's, mmpretrain's default). For
# the ResNets these replace mmpretrain's defaults: Kaiming normal convolutions,
# zero_init_residual=True (each residual block's last BN starts at 0), N(0, 0.01) classifiers.
cifar_paper_init = dict(
    resnet=[
        dict(type='Kaiming', layer=['Conv2d', 'Linear'], distribution='uniform', mode='fan_in'),
        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
    ],
    vgg=[
        dict(type='Kaiming', layer='Conv2d', distribution='normal', mode='fan_out'),
        dict(type='Constant', val=1, layer='_BatchNorm')
    ],
    linear=dict(type='Kaiming', layer='Linear', distribution='uniform', mode='fan_in'))
