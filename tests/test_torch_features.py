"""mmsr.torch_features: the torch features mmsr depends on, detected on whichever torch runs
the suite (each stack of requirements/ runs another one). The detection is by feature; these
tests check it against the torch releases that introduced each feature."""
import subprocess
import sys

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


TORCH = tuple(int(part) for part in torch.__version__.split('+')[0].split('.')[:2])


def test_features_are_detected_where_torch_introduced_them():
    """torch 2.4 added ``torch.serialization.add_safe_globals`` and the device argument of
    ``torch.is_autocast_enabled``."""
    assert torch_features.HAS_SAFE_GLOBALS == (TORCH >= (2, 4))
    assert torch_features._AUTOCAST_QUERY_TAKES_DEVICE == (TORCH >= (2, 4))


@pytest.mark.skipif(not torch_features.HAS_SAFE_GLOBALS, reason=NO_ALLOW_LIST)
def test_import_mmsr_adds_exactly_its_allow_list():
    """What ``import mmsr`` adds to torch's allow-list, in a fresh interpreter: exactly
    :func:`safe_checkpoint.safe_globals`, nothing more and nothing less (torch adds its own
    DTensor classes when mmengine imports them; those are torch's, not counted)."""
    code = ('import torch\n'
            'before = set(map(repr, torch.serialization.get_safe_globals()))\n'
            'import mmsr\n'
            'from mmsr.engine.safe_checkpoint import safe_globals\n'
            'added = {repr(g) for g in torch.serialization.get_safe_globals()\n'
            '         if not getattr(g, "__module__", "").startswith("torch.")} - before\n'
            'assert added == set(map(repr, safe_globals())), added ^ set(map(repr, safe_globals()))\n'
            'print(len(added))\n')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) == len(set(map(repr, safe_checkpoint.safe_globals())))


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
