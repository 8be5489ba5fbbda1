"""The memory-traffic floor stand-in: what it computes, and that it puts the block back."""
import torch

from mmsr.analysis.traffic_floor import interleaved_with_sr_timing, traffic_floor_forward
from mmsr.models.layers import SRBlock


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
