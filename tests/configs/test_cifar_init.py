"""The CIFAR configs initialise as the paper says (Appendix VII-A): Kaiming uniform [33] for the
ResNets' convolutions and linear layers, VGG's linear layers Kaiming uniform and its
convolutions Gaussian; the SR block keeps its own initialisation (zero memory). Checked on the
initialised weights themselves: their range, spread and shape (kurtosis: 1.8 uniform, 3
Gaussian)."""
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmsr.analysis import build_model, sr_blocks

REPO = Path(__file__).resolve().parents[2]


def fan_in(weight: torch.Tensor) -> int:
    return weight[0].numel()


def kurtosis(weight: torch.Tensor) -> float:
    w = weight.double().flatten()
    w = w - w.mean()
    return float((w**4).mean() / (w**2).mean()**2)


def std_tolerance(weight: torch.Tensor) -> float:
    """Four standard errors of a sample std (relative), at least 5%."""
    return max(0.05, 4 * math.sqrt(0.5 / weight.numel()))


def assert_kaiming_uniform(name: str, weight: torch.Tensor) -> None:
    """U(-b, b), b = sqrt(6 / fan_in): Kaiming uniform for ReLU (gain sqrt(2))."""
    bound = math.sqrt(6 / fan_in(weight))
    assert weight.abs().max() <= bound, f'{name}: outside +-{bound:.4f}'
    spread = bound / math.sqrt(3)
    assert float(weight.std()) == pytest.approx(spread, rel=std_tolerance(weight)), name
    if weight.numel() >= 2000:
        assert kurtosis(weight) == pytest.approx(1.8, abs=0.15), name


def assert_gaussian_fan_out(name: str, weight: torch.Tensor) -> None:
    """N(0, sqrt(2 / n)), n = k*k*out_channels."""
    std = math.sqrt(2 / (weight.shape[0] * weight[0, 0].numel()))
    assert float(weight.mean()) == pytest.approx(0, abs=0.1 * std), name
    assert float(weight.std()) == pytest.approx(std, rel=std_tolerance(weight)), name
    assert kurtosis(weight) == pytest.approx(3.0, abs=0.3), name


def initialised(config: str) -> nn.Module:
    model = build_model(Config.fromfile(str(REPO / 'configs' / config)))
    torch.manual_seed(0)
    model.init_weights()
    return model.requires_grad_(False)


@pytest.mark.parametrize('config', [
    'cifar100/resnet50-sr_1xb128_cifar100.py',  # Bottleneck, SR after layer3
    'cifar100/resnet18-cbam-sr_1xb128_cifar100.py',  # BasicBlock, CBAM convolutions
    'cifar10/resnet34-d_1xb128_cifar10.py',  # dropout head, CIFAR-10
    'cifar10/vgg16bn-sr_1xb128_cifar10.py',
    'cifar100/vgg19bn_1xb128_cifar100.py',
])
def test_cifar_weights_are_initialised_as_the_paper_says(config):
    model = initialised(config)
    vgg = 'vgg' in config
    in_sr = {id(m) for _, block in sr_blocks(model) for m in block.modules()}
    checked = {'conv': 0, 'linear': 0, 'norm': 0}
    for name, module in model.named_modules():
        if id(module) in in_sr:
            continue
        if isinstance(module, nn.Conv2d):
            if vgg:
                assert_gaussian_fan_out(name, module.weight)
            else:
                assert_kaiming_uniform(name, module.weight)
            checked['conv'] += 1
        elif isinstance(module, nn.Linear):
            assert_kaiming_uniform(name, module.weight)
            assert not module.bias.any(), name
            checked['linear'] += 1
        elif isinstance(module, nn.BatchNorm2d):
            # no zero-initialised last BN of a residual block (mmpretrain's default)
            assert (module.weight == 1).all() and not module.bias.any(), name
            checked['norm'] += 1
    assert all(checked.values()), checked
    for _, block in sr_blocks(model):  # the paper's block initialisation, not the network's
        assert not block.memory.any()
        for layer in (block.squeeze, block.remember.fc1, block.remember.fc2):
            bound = 1 / math.sqrt(fan_in(layer.weight))
            assert layer.weight.abs().max() <= bound
            assert float(layer.weight.std()) == pytest.approx(bound / math.sqrt(3),
                                                              rel=std_tolerance(layer.weight))
