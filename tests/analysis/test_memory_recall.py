"""Memory analysis (the paper's Figures 2-7) from a checkpoint and a dataset, for a classifier
and a segmentor."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmsr.analysis import build_model
from mmsr.analysis.memory_recall import choose_classes
from mmsr.datasets import make_cityscapes_layout, make_imagenet_layout
from mmsr.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'tests' / 'data' / 'configs'


def run_tool(argv):
    import runpy
    module = runpy.run_path(str(REPO / 'tools' / 'analysis_tools' / 'sr_memory_analysis.py'))
    return module['main'](argv)


def trained_checkpoint(config, path):
    """A checkpoint whose SR memory is not zero (as after training)."""
    model = build_model(Config.fromfile(str(config)))
    torch.manual_seed(0)
    with torch.no_grad():
        model.backbone.sr_block.memory.normal_()
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return model.backbone.sr_block.memory.detach()


@pytest.mark.parametrize('kind', ['classifier', 'segmentor'])
def test_analysis_writes_figures_and_numbers(kind, tmp_path, capfd):
    if kind == 'classifier':
        config = CONFIGS / 'tiny_resnet18_sr_imagenet.py'
        root = make_imagenet_layout(tmp_path / 'data', num_classes=3, val_per_class=2)
        images, classes = 6, ['n00000000', 'n00000001', 'n00000002']
    else:
        config = CONFIGS / 'tiny_fcn_r18_sr_cityscapes.py'
        root = make_cityscapes_layout(tmp_path / 'data', num_train=1, num_val=2)
        images, classes = 2, ['road', 'car']
    memory = trained_checkpoint(config, tmp_path / 'model.pth')
    out = tmp_path / 'analysis'
    argv = [str(config), str(tmp_path / 'model.pth'), '--out-dir', str(out), '--classes',
            *classes, '--cfg-options', f'val_dataloader.dataset.data_root={root}']
    assert run_tool(argv) == 0
    output = capfd.readouterr().out
    assert f'{images}/{images}' in output, output  # the progress bar
    report = json.loads((out / 'sr_memory_analysis.json').read_text())
    assert report['images'] == images and report['classes'] == classes
    block = report['sr_blocks']['backbone.sr_block']
    weights = block['softmax_weights']
    assert set(weights) == {'all', *classes}
    assert np.allclose(sum(weights['all']['mean']), 1.0, atol=1e-5)
    assert all(s >= 0 for stats in weights.values() for s in stats['std'])
    delta = np.subtract(block['channel_mean_after'], block['channel_mean_before'])
    assert np.allclose(block['channel_mean_delta'], delta)
    assert np.allclose(block['memory_channel_activity'], memory.mean((2, 3)).numpy(), atol=1e-6)
    for figure in ('softmax_weights', 'channel_activation', 'memory_channel_activity'):
        assert (out / f'backbone_sr_block_{figure}.png').stat().st_size > 1000


def recomputed(config, checkpoint, root):
    """The classifier's statistics computed here from scratch: every SR input of the val set
    collected, the block run once on all of them, and numpy's mean and (population) std."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner, load_checkpoint
    cfg = Config.fromfile(str(config))
    cfg.val_dataloader.dataset.data_root = str(root)
    model = build_model(cfg)
    load_checkpoint(model, str(checkpoint), map_location='cpu')
    model.eval()
    inputs, labels = [], []
    model.backbone.sr_block.register_forward_pre_hook(lambda m, args: inputs.append(args[0]))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(cfg.val_dataloader)
    with torch.no_grad():
        for data in loader:
            data = model.data_preprocessor(data, False)
            model(data['inputs'], mode='tensor')
            labels += [int(sample.gt_label) for sample in data['data_samples']]
        x = torch.cat(inputs)
        y, w = model.backbone.sr_block(x, return_weights=True)
    w, labels = w.double().numpy(), np.array(labels)
    weights = {'all': (w.mean(0), w.std(0))}
    for index, name in enumerate(cfg.metainfo['classes']):
        weights[name] = (w[labels == index].mean(0), w[labels == index].std(0))
    return weights, x.mean((0, 2, 3)).numpy(), y.mean((0, 2, 3)).numpy()


def test_classifier_statistics_equal_an_independent_computation(tmp_path):
    config = CONFIGS / 'tiny_resnet18_sr_imagenet.py'
    root = make_imagenet_layout(tmp_path / 'data', num_classes=3, val_per_class=3)
    trained_checkpoint(config, tmp_path / 'model.pth')
    out = tmp_path / 'analysis'
    classes = ['n00000000', 'n00000001', 'n00000002']
    assert run_tool([str(config), str(tmp_path / 'model.pth'), '--out-dir', str(out),
                     '--classes', *classes, '--cfg-options',
                     f'val_dataloader.dataset.data_root={root}']) == 0
    block = json.loads((out / 'sr_memory_analysis.json').read_text())['sr_blocks'][
        'backbone.sr_block']
    weights, before, after = recomputed(config, tmp_path / 'model.pth', root)
    for name, (mean, std) in weights.items():
        np.testing.assert_allclose(block['softmax_weights'][name]['mean'], mean, atol=1e-6)
        np.testing.assert_allclose(block['softmax_weights'][name]['std'], std, atol=1e-5)
    assert weights['all'][1].max() > 1e-3  # the weights vary over images: a real check
    np.testing.assert_allclose(block['channel_mean_before'], before, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(block['channel_mean_after'], after, rtol=1e-5, atol=1e-6)


def test_class_choice():
    names = ['tench, Tinca tinca', 'goldfish, Carassius auratus', 'pug, pug-dog']
    assert choose_classes(names, ['goldfish', '2'], present=[0]) == [1, 2]
    assert choose_classes(names, None, present=[2, 0]) == [0, 2]
    with pytest.raises(ConfigError, match="'plane' is not a class"):
        choose_classes(names, ['plane'], present=[])
