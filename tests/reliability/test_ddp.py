"""SR backbones under DistributedDataParallel, 2 CPU processes (gloo): ranks stay in sync, and
2 processes on halves of each global batch end with the same SR parameters as one process on
the whole batch. For that equivalence BN runs with frozen statistics (``norm_eval=True``): with
per-process BN statistics the two set-ups differ by definition."""

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from tool_runs import free_port

STEPS, GLOBAL_BATCH = 3, 4


def build_model(norm_eval):
    import mmsr  # noqa: F401
    from mmsr.models.backbones.mmseg_backbones import PluggedResNetV1c
    torch.manual_seed(0)
    model = PluggedResNetV1c(depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                             norm_eval=norm_eval, sr_cfg=dict(after_stage=2, num_memory_blocks=3,
                                                              hidden_channels=4,
                                                              input_size=(32, 32)))
    model.init_weights()
    model.train()
    return model


def global_batch(step):
    return torch.randn(GLOBAL_BATCH, 3, 32, 32, generator=torch.Generator().manual_seed(step))


def train(model, rank=0, world_size=1):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    share = GLOBAL_BATCH // world_size
    for step in range(STEPS):
        x = global_batch(step)[rank * share:(rank + 1) * share]
        optimizer.zero_grad()
        model(x)[-1].square().mean().backward()
        optimizer.step()


def worker(rank, port, out_dir, norm_eval):
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=2)
    try:
        model = torch.nn.parallel.DistributedDataParallel(build_model(norm_eval))
        train(model, rank, world_size=2)
        torch.save(model.module.layer2.sr_block.state_dict(), f'{out_dir}/rank{rank}.pth')
    finally:
        dist.destroy_process_group()


def run_ddp(out_dir, norm_eval):
    mp.start_processes(worker, args=(free_port(), str(out_dir), norm_eval), nprocs=2,
                       start_method='spawn')
    return [torch.load(out_dir / f'rank{rank}.pth') for rank in range(2)]


def test_ddp_with_training_bn_keeps_ranks_in_sync(tmp_path):
    ranks = run_ddp(tmp_path, norm_eval=False)
    initial = build_model(norm_eval=False).layer2.sr_block.state_dict()
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
    assert not torch.equal(ranks[0]['memory'], initial['memory'])  # and it learned


def test_two_process_ddp_equals_one_process_on_the_global_batch(tmp_path):
    ranks = run_ddp(tmp_path, norm_eval=True)
    single = build_model(norm_eval=True)
    initial = {k: v.clone() for k, v in single.layer2.sr_block.state_dict().items()}
    train(single)
    for key, value in single.layer2.sr_block.state_dict().items():
        assert torch.equal(ranks[0][key], ranks[1][key]), key
        torch.testing.assert_close(ranks[0][key], value, atol=1e-5, rtol=1e-4)
        assert not torch.equal(value, initial[key]), f'{key} did not train'
