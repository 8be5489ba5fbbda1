"""The memory-traffic floor stand-in: what it computes, and that it puts the block back."""
import torch

from mmsr.analysis.traffic_floor import floor_timing, traffic_floor_forward
from mmsr.models.layers import SRBlock


def test_floor_reads_input_and_memory_and_writes_a_map():
    block = SRBlock(4, (3, 5), num_memory_blocks=2, hidden_channels=3)
    with torch.no_grad():
        block.memory.normal_()
    x = torch.randn(2, 4, 3, 5)
    expected = x + block.memory.sum(dim=(0, 2, 3)).view(1, 4, 1, 1)
    torch.testing.assert_close(traffic_floor_forward(block, x), expected)


def test_floor_timing_times_the_floor_in_the_blocks_place_then_puts_the_block_back():
    block = SRBlock(4, (3, 5), num_memory_blocks=2, hidden_channels=3)
    with torch.no_grad():
        block.memory.fill_(1.0)
    x = torch.zeros(1, 4, 3, 5)
    sr_output = block(x)
    outputs = []
    timer, step = floor_timing([block], lambda: outputs.append(block(x)), torch.device('cpu'))
    step()
    step()
    assert torch.equal(outputs[0], torch.full_like(x, 2 * 3 * 5))  # the floor ran
    assert len(timer.times) == 2 and all(t > 0 for t in timer.times)  # and was timed
    assert 'forward' not in vars(block)
    assert torch.equal(block(x), sr_output)
