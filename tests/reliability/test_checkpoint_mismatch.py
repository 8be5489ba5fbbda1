"""Checkpoints across configurations: upstream checkpoints, truncated files."""
import pytest
import torch
from mmengine.runner import load_checkpoint

from mmsr.engine.safe_checkpoint import CheckpointLoadError

from mmseg.models.backbones import ResNetV1c

from mmsr.models.backbones.mmseg_backbones import PluggedResNetV1c

D8 = dict(depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
SR_CFG = dict(after_stage=2, num_memory_blocks=2, hidden_channels=4, input_size=(32, 32))


def test_upstream_checkpoint_reports_only_sr_keys_missing(tmp_path):
    torch.save({'state_dict': ResNetV1c(**D8).state_dict()}, tmp_path / 'upstream.pth')
    model = PluggedResNetV1c(**D8, sr_cfg=SR_CFG)
    with pytest.raises(RuntimeError) as error:
        load_checkpoint(model, str(tmp_path / 'upstream.pth'), strict=True)
    message = str(error.value)
    missing = message.split('missing keys in source state_dict:')[1].split('\n')[0]
    assert {k.strip() for k in missing.split(',')} == {
        k for k in model.state_dict() if k.startswith('layer2.sr_block.')}
    assert 'unexpected key' not in message
    load_checkpoint(model, str(tmp_path / 'upstream.pth'), strict=False)  # loads


def test_corrupt_checkpoint_is_a_clear_error_and_changes_nothing(tmp_path):
    model = PluggedResNetV1c(**D8, sr_cfg=SR_CFG)
    source = PluggedResNetV1c(**D8, sr_cfg=SR_CFG)
    torch.save({'state_dict': source.state_dict()}, tmp_path / 'good.pth')
    data = (tmp_path / 'good.pth').read_bytes()
    (tmp_path / 'truncated.pth').write_bytes(data[:len(data) * 2 // 3])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointLoadError, match='truncated or corrupt'):
        load_checkpoint(model, str(tmp_path / 'truncated.pth'))
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert (tmp_path / 'good.pth').read_bytes() == data  # the intact file is untouched
