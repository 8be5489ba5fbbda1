"""Memory analysis (the paper's Figures 2-7, per class) from a checkpoint and a dataset, for a
classifier and a segmentor."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmsr.analysis import build_model, sr_blocks
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
    """A checkpoint whose SR memory is not zero (as after training); returns the block's
    name and memory."""
    model = build_model(Config.fromfile(str(config)))
    (name, block), = sr_blocks(model)
    torch.manual_seed(0)
    with torch.no_grad():
        block.memory.normal_()
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return name, block.memory.detach()


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
    name, memory = trained_checkpoint(config, tmp_path / 'model.pth')
    # the block sits in the stage it follows: after layer3 (classifier) or layer2 (segmentor)
    assert name == {'classifier': 'backbone.layer3.sr_block',
                    'segmentor': 'backbone.layer2.sr_block'}[kind]
    out = tmp_path / 'analysis'
    argv = [str(config), str(tmp_path / 'model.pth'), '--out-dir', str(out), '--classes',
            *classes, '--cfg-options', f'val_dataloader.dataset.data_root={root}']
    assert run_tool(argv) == 0
    output = capfd.readouterr().out
    assert f'{images}/{images}' in output, output  # the progress bar
    report = json.loads((out / 'sr_memory_analysis.json').read_text())
    assert report['images'] == images and report['classes'] == classes
    block = report['sr_blocks'][name]
    weights = block['softmax_weights']
    assert set(weights) == {'all', *classes}
    assert np.allclose(sum(weights['all']['mean']), 1.0, atol=1e-5)
    assert all(s >= 0 for stats in weights.values() for s in stats['std'])
    activation = block['channel_activation']
    assert set(activation) == {'all', *classes}
    for stats in activation.values():
        assert np.allclose(stats['delta'], np.subtract(stats['after'], stats['before']))
    assert np.allclose(block['memory_channel_activity'], memory.mean((2, 3)).numpy(), atol=1e-6)
    for figure in ('softmax_weights', 'channel_activation', 'memory_channel_activity'):
        assert (out / f'{name.replace(".", "_")}_{figure}.png').stat().st_size > 1000


def recomputed(config, checkpoint, root):
    """The classifier's statistics computed here from scratch: every SR input of the val set
    collected, the block run once on all of them, numpy's mean and (population) std of the
    weights, and Figure 3's channel means, deltas and shifts, per class and over all images."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner, load_checkpoint
    cfg = Config.fromfile(str(config))
    cfg.val_dataloader.dataset.data_root = str(root)
    model = build_model(cfg)
    load_checkpoint(model, str(checkpoint), map_location='cpu')
    model.eval()
    inputs, labels = [], []
    model.backbone.layer3.sr_block.register_forward_pre_hook(lambda m, args: inputs.append(args[0]))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(cfg.val_dataloader)
    with torch.no_grad():
        for data in loader:
            data = model.data_preprocessor(data, False)
            model(data['inputs'], mode='tensor')
            labels += [int(sample.gt_label) for sample in data['data_samples']]
        x = torch.cat(inputs)
        y, w = model.backbone.layer3.sr_block(x, return_weights=True)
    w, x, y, labels = w.double().numpy(), x.double().numpy(), y.double().numpy(), np.array(labels)
    expected = {}
    masks = {'all': np.ones(len(labels), bool)}
    masks.update({name: labels == index for index, name in enumerate(cfg.metainfo['classes'])})
    for name, mask in masks.items():
        before, after = x[mask].mean((0, 2, 3)), y[mask].mean((0, 2, 3))
        relative = 100 * (after - before) / np.abs(before).mean()
        expected[name] = dict(weights=(w[mask].mean(0), w[mask].std(0)), before=before,
                              after=after, relative=relative, shift=np.abs(relative).mean())
    return expected


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
        'backbone.layer3.sr_block']
    expected = recomputed(config, tmp_path / 'model.pth', root)
    assert set(expected) == set(block['softmax_weights']) == set(block['channel_activation'])
    for name, want in expected.items():
        weights, activation = block['softmax_weights'][name], block['channel_activation'][name]
        np.testing.assert_allclose(weights['mean'], want['weights'][0], atol=1e-6)
        np.testing.assert_allclose(weights['std'], want['weights'][1], atol=1e-5)
        # Figure 3: the class's channel means before and after the block, and their shift
        np.testing.assert_allclose(activation['before'], want['before'], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(activation['after'], want['after'], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(activation['relative_delta'], want['relative'], rtol=1e-4,
                                   atol=1e-4)
        assert activation['relative_shift'] == pytest.approx(want['shift'], rel=1e-4)
    assert expected['all']['weights'][1].max() > 1e-3  # the weights vary over images
    shifts = [want['shift'] for name, want in expected.items() if name != 'all']
    assert max(shifts) - min(shifts) > 1e-3  # the classes' shifts differ: a real per-class check


def test_class_choice():
    names = ['tench, Tinca tinca', 'goldfish, Carassius auratus', 'pug, pug-dog']
    assert choose_classes(names, ['goldfish', '2'], present=[0]) == [1, 2]
    assert choose_classes(names, None, present=[2, 0]) == [0, 2]
    with pytest.raises(ConfigError, match="'plane' is not a class"):
        choose_classes(names, ['plane'], present=[])
