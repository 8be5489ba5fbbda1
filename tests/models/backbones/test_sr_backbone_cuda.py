"""An SR backbone on a CUDA device (marker ``gpu``): a training step under autocast (fp16 with
mmengine's ``AmpOptimWrapper``, as ``--amp`` runs it, and bf16) in channels-last against fp32,
``torch.compile`` against eager, and SyncBN layers under ``MMDistributedDataParallel`` in a
one-process NCCL group against BN (one process has no other rank to synchronise with: this
shows the layers build and run there, not the synchronisation itself)."""
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmsr.models.backbones.mmseg_backbones import PluggedResNetV1c
from tool_runs import free_port, with_repo_path

SR_CFG = dict(after_stage=3, num_memory_blocks=2, hidden_channels=16, input_size=(64, 128))
D8 = dict(depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True)


@pytest.fixture
def no_tf32(monkeypatch):
    """fp32 references in fp32 (cuDNN convolutions default to TF32)."""
    monkeypatch.setattr(torch.backends.cudnn, 'allow_tf32', False)
    monkeypatch.setattr(torch.backends.cuda.matmul, 'allow_tf32', False)


def sr_backbone(train=True):
    torch.manual_seed(0)
    backbone = PluggedResNetV1c(**D8, sr_cfg=SR_CFG).cuda()
    backbone.train(train)  # mmseg's ResNet.train returns None: no chaining
    with torch.no_grad():
        backbone.layer3.sr_block.memory.normal_(std=0.1)  # as trained, not the zero start
    return backbone


def train_step(backbone, x, wrapper_cls, **wrapper_kwargs):
    """One SGD step through ``wrapper_cls``; the loss and the SR squeeze's gradient (unscaled),
    which is zero unless the block's output depends on it."""
    optimizer = torch.optim.SGD(backbone.parameters(), lr=0.01, momentum=0.9)
    wrapper = wrapper_cls(optimizer=optimizer, **wrapper_kwargs)
    with wrapper.optim_context(backbone):
        loss = sum(out.float().square().mean() for out in backbone(x))
    wrapper.backward(loss)
    if hasattr(wrapper, 'loss_scaler'):
        wrapper.loss_scaler.unscale_(optimizer)
    grad = backbone.layer3.sr_block.squeeze.weight.grad.clone()
    wrapper.step()
    wrapper.zero_grad()
    return loss.detach(), grad


@pytest.mark.gpu
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_training_step_under_autocast_and_channels_last(no_tf32, dtype):
    x = torch.randn(2, 3, 64, 128, device='cuda')
    reference, ref_grad = train_step(sr_backbone(), x, OptimWrapper)
    backbone = sr_backbone().to(memory_format=torch.channels_last)
    loss, grad = train_step(backbone, x.to(memory_format=torch.channels_last), AmpOptimWrapper,
                            dtype=dtype, loss_scale='dynamic')
    assert torch.isfinite(loss) and torch.isfinite(grad).all() and grad.abs().sum() > 0
    # Half-precision activations through 18 layers: a few parts in a thousand of the loss.
    torch.testing.assert_close(loss, reference, rtol=2e-2, atol=0)
    cosine = torch.nn.functional.cosine_similarity(grad.flatten(), ref_grad.flatten(), dim=0)
    assert cosine > 0.99, float(cosine)


@pytest.mark.gpu
def test_torch_compile_equals_eager(no_tf32):
    x = torch.randn(2, 3, 64, 128, device='cuda')
    eager = sr_backbone(train=False)
    compiled = torch.compile(sr_backbone(train=False))
    with torch.no_grad():
        for want, got in zip(eager(x), compiled(x)):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    # A training step compiles too (autograd through the block), giving eager's gradient.
    eager_loss, eager_grad = train_step(sr_backbone(), x, OptimWrapper)
    compiled_loss, compiled_grad = train_step(torch.compile(sr_backbone()), x, OptimWrapper)
    torch.testing.assert_close(compiled_loss, eager_loss, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(compiled_grad, eager_grad, rtol=1e-3, atol=1e-5)


SYNCBN_UNDER_NCCL = '''
import torch, torch.distributed as dist
from mmengine.model import MMDistributedDataParallel
from mmsr.models.backbones.mmseg_backbones import PluggedResNetV1c
torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
dist.init_process_group('nccl', rank=0, world_size=1)
sr_cfg = dict(after_stage=3, num_memory_blocks=2, hidden_channels=16, input_size=(64, 128))
d8 = dict(depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True)
nets = {}
for norm in ('SyncBN', 'BN'):
    torch.manual_seed(0)
    nets[norm] = PluggedResNetV1c(**d8, norm_cfg=dict(type=norm), sr_cfg=sr_cfg).cuda()
    with torch.no_grad():
        nets[norm].layer3.sr_block.memory.normal_(generator=torch.Generator('cuda').manual_seed(1))
assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in nets['SyncBN'].modules())
synced = MMDistributedDataParallel(nets['SyncBN'], device_ids=[0])
x = torch.randn(2, 3, 64, 128, device='cuda')
outs = {'SyncBN': synced(x), 'BN': nets['BN'](x)}
for a, b in zip(outs['SyncBN'], outs['BN']):
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
sum(o.square().mean() for o in outs['SyncBN']).backward()
assert nets['SyncBN'].layer3.sr_block.squeeze.weight.grad.abs().sum() > 0  # zero for a zero memory
print('syncbn nccl ok', dist.get_backend())
dist.destroy_process_group()
'''


@pytest.mark.gpu
def test_syncbn_layers_run_under_a_one_process_nccl_group():
    env = dict(os.environ, PYTHONPATH=with_repo_path(), MASTER_ADDR='127.0.0.1',
               MASTER_PORT=str(free_port()))
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(SYNCBN_UNDER_NCCL)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'syncbn nccl ok nccl' in result.stdout
