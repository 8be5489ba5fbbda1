"""Speed benchmark of a config against its baseline: runs, reports, and measures activation
memory (speed itself is measured by the tool, never asserted here)."""
import json
import subprocess
import sys
from pathlib import Path

import torch
from mmengine.config import Config

from mmsr.analysis.speed import benchmark_config, format_benchmark
from mmsr.analysis.timing import BlockTimer, saved_activation_bytes

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'tests' / 'data' / 'configs' / 'tiny_resnet18_sr_imagenet.py'


def test_benchmark_report():
    report = benchmark_config(Config.fromfile(str(TINY)), 'cpu', batch_size=2, repeats=2,
                              warmup=1)
    for mode in ('inference', 'train'):
        result = report[mode]
        assert result['ratio'] > 0 and result['baseline']['median_ms'] > 0
        assert result['sr_blocks_in_network']['median_ms'] > 0
        assert result['floor_in_network']['median_ms'] > 0
    memory = report['train']['activation_memory']
    # The SR output is the one new map a training step keeps (plus the block's small vectors:
    # here 2 x (2*2 + 16 + 2*2) values against a 2 x 256 x 2 x 2 map).
    assert 1.0 <= memory['increase_in_feature_maps'] <= 1.05
    assert memory['within_one_map_per_block']
    text = format_benchmark(report)
    assert 'activations saved for backward' in text and 'memory-traffic floor' in text


def test_saved_activation_bytes_counts_distinct_storages():
    layer = torch.nn.Linear(8, 8)
    x = torch.randn(4, 8)
    # linear saves its input (4x8 floats), excluding the weight; relu saves its output.
    assert saved_activation_bytes(layer, lambda: layer(x).relu()) == 2 * 4 * 8 * 4


def test_block_timer_times_each_call():
    layer = torch.nn.Linear(8, 8)
    timer = BlockTimer([layer], torch.device('cpu'))
    with timer:
        layer(torch.randn(2, 8))
        layer(torch.randn(2, 8))
    assert len(timer.times) == 1 and timer.times[0] > 0


def test_tool(tmp_path):
    out = tmp_path / 'bench.json'
    tool = str(REPO / 'tools' / 'analysis_tools' / 'benchmark.py')
    result = subprocess.run([sys.executable, tool, str(TINY), '--repeats', '2', '--warmup', '1',
                             '--modes', 'inference', '--json', str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(out.read_text())['inference']['ratio'] > 0
    if not torch.cuda.is_available():
        result = subprocess.run([sys.executable, tool, str(TINY), '--device', 'cuda'],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 2 and 'CUDA is not available' in result.stderr
