"""Complexity report: counted, mmengine and closed-form figures agree, and reproduce the
paper's printed overheads (ImageNet 1.59% and 7.87%) and the formula's on CIFAR."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from mmsr import SRBlock
from mmsr.analysis import complexity_report, remove_sr
from mmsr.analysis.complexity import sr_block_flops_formula, sr_block_params_formula
from mmsr.errors import ConfigError
from paper_formulas import paper_param_count

REPO = Path(__file__).resolve().parents[2]


def test_block_formulas():
    block = SRBlock(1024, 14, num_memory_blocks=2, hidden_channels=16)
    assert sr_block_params_formula(block) == sum(p.numel() for p in block.parameters()) == 405619
    # squeeze C*H*W + fc1 H*W*h + fc2 h*P + recall P*C*H*W multiply-adds
    assert sr_block_flops_formula(block) == 1024 * 196 + 196 * 16 + 16 * 2 + 2 * 1024 * 196


@pytest.mark.parametrize('config, added, printed', [
    # ImageNet, after ResNet-50's layer3 (1024 channels, 14x14 at 224x224), h=16; the paper's
    # text prints "about 1.59% to 7.87%" (P=2 / P=10).
    ('imagenet/resnet50-d2d-sr-p2_8xb32-450e_in1k.py', paper_param_count(1024, 14, 14, 16, 2),
     1.59),
    ('resnet50_sr_in1k.py', paper_param_count(1024, 14, 14, 16, 10), 7.87),
    # CIFAR-100 (32x32), h=8; the paper prints no overhead for these rows.
    ('cifar100/resnet18-sr_1xb128_cifar100.py', paper_param_count(512, 4, 4, 8, 2), None),
    ('cifar100/resnet34-sr_1xb128_cifar100.py', paper_param_count(256, 8, 8, 8, 6), None),
])
def test_report_reproduces_the_papers_overheads(config, added, printed):
    """The report's added parameters are the paper's formula for the block the config places;
    its percentage is that over the baseline it counts, and the paper's figure where printed."""
    report = complexity_report(Config.fromfile(str(REPO / 'configs' / config)))
    assert report['consistent']
    assert report['delta_params'] == added
    percent = report['delta_params_percent']
    assert percent == pytest.approx(100 * added / report['baseline']['params'], rel=1e-12)
    if printed is not None:
        assert round(percent, 2) == printed
    (block, ) = report['sr_blocks']
    assert block['params'] == block['params_formula'] == added
    assert block['flops'] == block['flops_formula'] == report['delta_flops']


def test_segmentor_report_at_its_crop_size():
    cfg = Config.fromfile(str(REPO / 'tests' / 'data' / 'configs' /
                              'tiny_fcn_r18_sr_cityscapes.py'))
    report = complexity_report(cfg)
    assert report['input_size'] == [64, 128] and report['consistent']
    assert report['sr_blocks'][0]['memory_size'] == [8, 16]


def test_remove_sr_and_no_sr_config():
    cfg = Config.fromfile(str(REPO / 'configs' / 'fcn_r50_sr_cityscapes.py'))
    baseline = remove_sr(cfg.model)
    assert baseline['backbone']['sr_cfg'] is None and cfg.model.backbone.sr_cfg is not None
    with pytest.raises(ConfigError, match='has no SR block'):
        complexity_report(Config.fromfile(str(REPO / 'configs' / 'fcn_r50_cityscapes.py')))


def test_tool_writes_json(tmp_path):
    out = tmp_path / 'c.json'
    result = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'analysis_tools' / 'sr_complexity.py'),
         str(REPO / 'configs' / 'cifar10' / 'vgg16bn-sr_1xb128_cifar10.py'), '--json', str(out)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'counted, mmengine and formula agree' in result.stdout
    assert json.loads(out.read_text())['delta_params'] == 17009  # M4 P8 after the 4th pool


def test_fully_convolutional_flops_from_small_inputs_equal_the_direct_count(monkeypatch):
    from mmsr.analysis import build_model, complexity
    cfg = Config.fromfile(str(REPO / 'tests' / 'data' / 'configs' /
                              'tiny_fcn_r18_sr_cityscapes.py'))
    model = build_model(cfg, remove_sr(cfg.model)).eval()
    count, sizes = complexity._flop_analyzer, []

    def spy(net, size):
        sizes.append(tuple(size))
        return count(net, size)

    monkeypatch.setattr(complexity, '_flop_analyzer', spy)
    flops = complexity.fully_convolutional_flops(model, (256, 512))
    assert sizes == [(8, 16), (16, 32), (24, 48)]  # counted small, not at 256x512
    assert flops == int(count(model, (256, 512)).total())


def test_tool_prints_the_papers_compute_overhead_beside_the_flops(capsys, tmp_path):
    import runpy
    tool = runpy.run_path(str(REPO / 'tools' / 'analysis_tools' / 'sr_complexity.py'))
    assert tool['main']([str(REPO / 'configs' / 'fcn_r50_sr_cityscapes.py'), '--shape', '64',
                         '128', '--json', str(tmp_path / 'c.json')]) == 0
    report = json.loads((tmp_path / 'c.json').read_text())
    assert report['paper_compute_oh'] == 1.90
    assert ('paper (F-CONV + SR): +1.90% computational overhead; the SR block adds '
            f'{report["delta_flops_percent"]:+.4f}% FLOPs, so the paper\'s figure is most likely '
            'time') in capsys.readouterr().out
