"""tools/model_converters/resample_sr_memory.py: a checkpoint's SR memory at another size."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mmsr.models.layers import SRBlock

REPO = Path(__file__).resolve().parents[2]
TOOL = str(REPO / 'tools' / 'model_converters' / 'resample_sr_memory.py')
TINY_SEG = REPO / 'tests' / 'data' / 'configs' / 'tiny_fcn_r18_sr_cityscapes.py'


def trained_block(size):
    torch.manual_seed(0)
    block = SRBlock(8, size, num_memory_blocks=3, hidden_channels=4)
    with torch.no_grad():
        block.memory.normal_()
    return block


def convert(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def test_memory_and_fc1_resampled_and_the_rest_copied(tmp_path):
    source = trained_block((5, 7))
    torch.save({'state_dict': {f'backbone.layer2.sr_block.{k}': v
                               for k, v in source.state_dict().items()}, 'meta': {'epoch': 3}},
               tmp_path / 'src.pth')
    result = convert(tmp_path / 'src.pth', tmp_path / 'dst.pth', '--memory-size', 10, 14)
    assert result.returncode == 0, result.stderr
    assert 'backbone.layer2.sr_block.memory: 5x7 -> 10x14' in result.stdout
    converted = torch.load(tmp_path / 'dst.pth', weights_only=False)
    assert converted['meta'] == {'epoch': 3}
    target = SRBlock(8, (10, 14), num_memory_blocks=3, hidden_channels=4)
    target.load_state_dict({k[len('backbone.layer2.sr_block.'):]: v
                            for k, v in converted['state_dict'].items()})
    expected = F.interpolate(source.memory.detach(), size=(10, 14), mode='bilinear',
                             align_corners=False)
    torch.testing.assert_close(target.memory.detach(), expected)
    assert torch.equal(target.remember.fc2.weight, source.remember.fc2.weight)
    assert torch.equal(target.squeeze.weight, source.squeeze.weight)
    # fc1 is rescaled over the map: a smooth input gives the same memory weights at both sizes
    torch.testing.assert_close(target.memory_weights(torch.ones(1, 8, 10, 14)),
                               source.memory_weights(torch.ones(1, 8, 5, 7)),
                               atol=1e-5, rtol=1e-5)


def test_sizes_from_a_config(tmp_path):
    import mmsr  # noqa: F401
    from mmengine.config import Config

    from mmsr.analysis.sr_models import build_model
    cfg = Config.fromfile(str(TINY_SEG))
    model = build_model(cfg)
    size = model.backbone.layer2.sr_block.memory_size  # the config's after_stage=2
    cfg.model.backbone.sr_cfg.input_size = (32, 48)  # another crop: another memory size
    other = build_model(cfg)
    torch.save({'state_dict': other.state_dict()}, tmp_path / 'other.pth')
    result = convert(tmp_path / 'other.pth', tmp_path / 'dst.pth', '--config', TINY_SEG)
    assert result.returncode == 0, result.stderr
    state = torch.load(tmp_path / 'dst.pth', weights_only=False)['state_dict']
    model.load_state_dict(state)  # loads: the memory now has the config's size
    assert tuple(state['backbone.layer2.sr_block.memory'].shape[-2:]) == size


@pytest.mark.parametrize('args,message', [
    ((), 'give either --memory-size H W or --config CONFIG'),
    (('--memory-size', 4, 4, '--config', TINY_SEG), 'give either'),
])
def test_errors_are_one_line(tmp_path, args, message):
    torch.save({'state_dict': trained_block((5, 7)).state_dict()}, tmp_path / 'src.pth')
    result = convert(tmp_path / 'src.pth', tmp_path / 'dst.pth', *args)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith('resample_sr_memory.py: error: ' + message)
    torch.save({'state_dict': {'fc.weight': torch.zeros(2, 2)}}, tmp_path / 'plain.pth')
    result = convert(tmp_path / 'plain.pth', tmp_path / 'dst.pth', '--memory-size', 4, 4)
    assert result.returncode == 2 and 'holds no SR block' in result.stderr
    assert not (tmp_path / 'dst.pth').exists()
