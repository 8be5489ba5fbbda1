"""mmsr.torch_features: the torch features mmsr depends on, detected on whichever torch runs
the suite (each test lane runs another one)."""
import pytest
import torch
from allowed_skips import NO_ALLOW_LIST

from mmsr import torch_features
from mmsr.engine import safe_checkpoint


def test_autocast_query_follows_torch_autocast():
    assert torch_features.autocast_enabled('cpu') is False
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert torch_features.autocast_enabled('cpu') is True
        assert torch_features.autocast_enabled('cuda') is False
    assert torch_features.autocast_enabled('cpu') is False


def test_safe_globals_detected_by_feature():
    assert torch_features.HAS_SAFE_GLOBALS == hasattr(torch.serialization, 'add_safe_globals')


@pytest.mark.skipif(not torch_features.HAS_SAFE_GLOBALS, reason=NO_ALLOW_LIST)
def test_import_mmsr_adds_exactly_its_allow_list():
    import mmsr  # noqa: F401
    allowed = set(map(repr, torch.serialization.get_safe_globals()))
    assert set(map(repr, safe_checkpoint.safe_globals())) <= allowed


def test_loader_uses_weights_only_exactly_when_torch_can(tmp_path, monkeypatch):
    calls = []
    real_load = torch.load

    def recording_load(*args, **kwargs):
        calls.append(kwargs.get('weights_only', 'torch default'))
        return real_load(*args, **kwargs)

    path = tmp_path / 'c.pth'
    torch.save({'w': torch.ones(2)}, path)
    monkeypatch.setattr(torch, 'load', recording_load)
    assert torch.equal(safe_checkpoint.load_local_checkpoint(str(path))['w'], torch.ones(2))
    assert calls == [True if torch_features.HAS_SAFE_GLOBALS else 'torch default']
