"""SR backbones under DistributedDataParallel: 2 CPU processes (gloo), BN backbone."""
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

pytest.importorskip('mmseg')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def build_model():
    import mmsr  # noqa: F401
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(dict(type='ResNetV1cSR', depth=18, strides=(1, 2, 1, 1),
                                  dilations=(1, 1, 2, 4), sr_cfg=dict(
                                      after_stage=2, num_memory_blocks=2, hidden_channels=4,
                                      input_size=(32, 32))))
    model.init_weights()
    return model


def worker(rank, port, out_dir):
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=2)
    try:
        model = torch.nn.parallel.DistributedDataParallel(build_model())
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for step in range(2):
            torch.manual_seed(100 + 10 * step + rank)  # different data on each rank
            x = torch.randn(2, 3, 32, 32)
            optimizer.zero_grad()
            model(x)[-1].square().mean().backward()
            optimizer.step()
        torch.save(model.module.sr_block.state_dict(), f'{out_dir}/rank{rank}.pth')
    finally:
        dist.destroy_process_group()


def test_ddp_trains_and_keeps_sr_parameters_in_sync(tmp_path):
    mp.start_processes(worker, args=(free_port(), str(tmp_path)), nprocs=2,
                       start_method='spawn')
    states = [torch.load(tmp_path / f'rank{rank}.pth') for rank in range(2)]
    initial = build_model().sr_block.state_dict()
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key  # ranks agree
    assert not torch.equal(states[0]['memory'], initial['memory'])  # and it learned
