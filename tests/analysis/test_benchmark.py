"""The benchmark helper and tool: timing, the memory-traffic floor, the report (speed itself
is measured by the tool, never asserted here)."""
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from mmsr.analysis.benchmark import (BlockTimer, interleaved_with_sr_timing,
                                     saved_activation_bytes, torchvision_resnet50_subject,
                                     traffic_floor_forward)
from mmsr.models.layers import SRBlock

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'tests' / 'data' / 'configs' / 'tiny_resnet18_sr_imagenet.py'
TOOL = str(REPO / 'tools' / 'analysis_tools' / 'benchmark.py')


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


class Sleeps(torch.nn.Module):
    """Takes at least ``seconds`` per call."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def forward(self, x):
        time.sleep(self.seconds)
        return x


def test_block_timer_times_each_call():
    """One total per ``with``: two calls of 50 ms each add up to at least 100 ms (a missed call
    would give about 50); the time between the calls is not counted."""
    layer = Sleeps(0.05)
    timer = BlockTimer([layer], torch.device('cpu'))
    with timer:
        layer(torch.randn(2, 8))
        time.sleep(0.3)
        layer(torch.randn(2, 8))
    with timer:
        layer(torch.randn(2, 8))
    assert len(timer.times) == 2
    assert 0.1 <= timer.times[0] < 0.3 and 0.05 <= timer.times[1] < 0.1


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


def check_mode(result):
    """The figures of one mode agree with each other: every derived number is the quotient it
    names, and the blocks (and the floor in their place) take part of the SR network's time."""
    close = lambda a, b: abs(a - b) <= 1e-9 * max(1.0, abs(b))  # noqa: E731
    base, sr = result['baseline']['median_ms'], result['sr']['median_ms']
    blocks, floor = (result[key]['median_ms'] for key in ('sr_blocks_in_network',
                                                           'floor_in_network'))
    assert min(base, sr, blocks, floor) > 0
    assert close(result['overhead_percent'], 100 * (result['ratio'] - 1))
    assert close(result['sr_blocks_share_percent'], 100 * blocks / base)
    assert close(result['floor_share_percent'], 100 * floor / base)
    assert close(result['blocks_over_floor'], blocks / floor)
    assert blocks < sr and floor < sr


def test_tool_on_a_config_and_on_torchvision_resnet50(tmp_path):
    out = tmp_path / 'bench.json'
    result = run_tool(str(TINY), '--repeats', '2', '--warmup', '1', '--batch-size', '2',
                      '--json', str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    for mode in ('inference', 'train'):
        check_mode(report[mode])
    memory = report['train']['activation_memory']
    # The SR output is the one new map a training step keeps (plus the block's small vectors:
    # here 2 x (2*2 + 16 + 2*2) values against a 2 x 256 x 2 x 2 map).
    assert 1.0 <= memory['increase_in_feature_maps'] <= 1.05
    assert memory['within_one_map_per_block']
    assert 'activations saved for backward' in result.stdout
    assert 'memory-traffic floor' in result.stdout
    result = run_tool('--torchvision-resnet50', '--shape', '32', '32', '--repeats', '2',
                      '--warmup', '1', '--batch-size', '2', '--num-memory-blocks', '3',
                      '--json', str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    check_mode(report['train'])
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
