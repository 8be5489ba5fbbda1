"""FormattedOnceConfig: the text mmengine's Config gives, formatted once per content; the
config a ResumableRunner keeps, and so the text in its log, work dir and checkpoints."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.config import config as mmengine_config

from mmsr.engine.config_text import FormattedOnceConfig

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def formatting_calls(monkeypatch):
    """The calls of the formatter mmengine's ``Config.pretty_text`` runs (yapf), recorded."""
    calls = []
    format_code = mmengine_config.FormatCode

    def recorded(*args, **kwargs):
        calls.append(args[0])
        return format_code(*args, **kwargs)

    monkeypatch.setattr(mmengine_config, 'FormatCode', recorded)
    return calls


def test_the_same_text_formatted_once_per_contents(formatting_calls):
    cfg = Config.fromfile(str(REPO / 'configs' / 'deeplabv3_r50_sr_cityscapes.py'))
    once = FormattedOnceConfig.of(cfg)
    assert isinstance(once, Config) and once.filename == cfg.filename
    assert once.pretty_text == cfg.pretty_text and len(formatting_calls) == 2
    assert once.pretty_text == once.pretty_text and len(formatting_calls) == 2
    once.train_cfg.max_iters = 5  # a changed config is formatted again
    assert 'max_iters=5' in once.pretty_text and len(formatting_calls) == 3
    assert once.pretty_text == Config(once.to_dict()).pretty_text
    assert FormattedOnceConfig.of(once) is once and FormattedOnceConfig.of(None) is None
    assert FormattedOnceConfig.of(dict(a=1)).a == 1


def test_runner_formats_its_config_once_for_log_dump_and_checkpoints(tmp_path,
                                                                     formatting_calls):
    from test_runner import runner
    cfg = Config(dict(work_dir=str(tmp_path), train_cfg=dict(by_epoch=False, max_iters=3)))
    built = runner(tmp_path, iters=3, cfg=cfg)
    built.train()
    assert isinstance(built.cfg, FormattedOnceConfig)
    assert len(formatting_calls) == 1  # the log, the dumped config and 3 checkpoints
    checkpoint = torch.load(tmp_path / 'iter_3.pth', map_location='cpu', weights_only=False)
    assert checkpoint['meta']['cfg'] == Config(cfg.to_dict()).pretty_text
