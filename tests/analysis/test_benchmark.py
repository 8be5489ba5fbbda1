"""The benchmark helper and tool: timing, the memory-traffic floor, the report (speed itself
is measured by the tool, never asserted here)."""
import json
import subprocess
import sys
from pathlib import Path

import torch
from mmengine.config import Config

from mmsr.analysis.benchmark import (BlockTimer, benchmark, config_subject, format_report,
                                     interleaved_with_sr_timing, saved_activation_bytes,
                                     torchvision_resnet50_subject, traffic_floor_forward)
from mmsr.models.layers import SRBlock

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'tests' / 'data' / 'configs' / 'tiny_resnet18_sr_imagenet.py'
TOOL = str(REPO / 'tools' / 'analysis_tools' / 'benchmark.py')


def test_config_benchmark_report():
    report = benchmark(config_subject(Config.fromfile(str(TINY))), 'cpu', batch_size=2,
                       repeats=2, warmup=1)
    for mode in ('inference', 'train'):
        result = report[mode]
        assert result['ratio'] > 0 and result['baseline']['median_ms'] > 0
        assert result['sr_blocks_in_network']['median_ms'] > 0
        assert result['floor_in_network']['median_ms'] > 0
        assert result['blocks_over_floor'] > 0
    memory = report['train']['activation_memory']
    # The SR output is the one new map a training step keeps (plus the block's small vectors:
    # here 2 x (2*2 + 16 + 2*2) values against a 2 x 256 x 2 x 2 map).
    assert 1.0 <= memory['increase_in_feature_maps'] <= 1.05
    assert memory['within_one_map_per_block']
    text = format_report(report)
    assert 'activations saved for backward' in text and 'memory-traffic floor' in text


def test_torchvision_resnet50_subject_same_weights_plus_one_block():
    subject = torchvision_resnet50_subject(num_memory_blocks=3, hidden_channels=4,
                                           input_size=64)
    (block, ) = subject.blocks
    assert block.memory.shape == (3, 1024, 4, 4)  # 64 / 16 after layer3
    x = torch.randn(1, 3, 64, 64)
    subject.baseline.eval(), subject.sr.eval()
    with torch.no_grad():
        block.memory.zero_()  # an identity block: the two networks agree exactly
        assert torch.equal(subject.baseline(x), subject.sr(x))


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


def test_floor_reads_input_and_memory_and_writes_a_map():
    block = SRBlock(4, (3, 5), num_memory_blocks=2, hidden_channels=3)
    with torch.no_grad():
        block.memory.normal_()
    x = torch.randn(2, 4, 3, 5)
    expected = x + block.memory.sum(dim=(0, 2, 3)).view(1, 4, 1, 1)
    torch.testing.assert_close(traffic_floor_forward(block, x), expected)


def test_sr_runs_time_the_block_and_the_floor_in_its_place_then_put_the_block_back():
    block = SRBlock(4, (3, 5), num_memory_blocks=2, hidden_channels=3)
    with torch.no_grad():
        block.memory.fill_(1.0)
    x = torch.zeros(1, 4, 3, 5)
    sr_output = block(x)
    outputs = []
    steps = {'sr': lambda: outputs.append(block(x))}
    times, block_times, floor_times = interleaved_with_sr_timing(
        steps, [block], repeats=2, warmup=1, device=torch.device('cpu'))
    floor_output = torch.full_like(x, 2 * 3 * 5)
    assert any(torch.equal(output, floor_output) for output in outputs)  # the floor ran
    assert sum(torch.equal(output, sr_output) for output in outputs) == 2 * 3  # and the block
    assert len(floor_times) == 2 and all(t > 0 for t in floor_times)  # both were timed
    assert len(block_times) == 2 and all(t > 0 for t in block_times)
    assert list(times) == ['sr'] and len(times['sr']) == 2
    assert 'forward' not in vars(block)
    assert torch.equal(block(x), sr_output)


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True,
                          timeout=300)


def test_tool_on_a_config_and_on_torchvision_resnet50(tmp_path):
    out = tmp_path / 'bench.json'
    result = run_tool(str(TINY), '--repeats', '2', '--warmup', '1', '--modes', 'inference',
                      '--json', str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(out.read_text())['inference']['ratio'] > 0
    result = run_tool('--torchvision-resnet50', '--shape', '32', '32', '--repeats', '2',
                      '--warmup', '1', '--batch-size', '2', '--num-memory-blocks', '3',
                      '--json', str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report['device'] == 'cpu' and 'P=3' in report['subject']
    assert report['train']['activation_memory']['within_one_map_per_block']


def test_tool_errors_are_one_line():
    result = run_tool()
    assert result.returncode == 2
    assert result.stderr.strip() == ('benchmark.py: error: give either a config or '
                                     '--torchvision-resnet50.')
    if not torch.cuda.is_available():
        result = run_tool(str(TINY), '--device', 'cuda')
        assert result.returncode == 2 and 'CUDA is not available' in result.stderr
