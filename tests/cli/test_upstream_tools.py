"""mmsr.cli.upstream_tools: how tools/train.py and tools/test.py find the upstream script and
turn mmsr's flags into --cfg-options, and their one-line errors."""
import argparse
import sys
from pathlib import Path

import pytest
from mmengine.config import Config, DictAction

from mmsr.cli.upstream_tools import (cpu_distributed_options, run_tool, sr_off_options,
                                     upstream_tool)
from mmsr.errors import ConfigError
from mmsr.utils.config import detect_codebase

REPO = Path(__file__).resolve().parents[2]

FCN_SR = str(REPO / 'configs' / 'fcn_r50_sr_cityscapes.py')


def test_detect_codebase_from_default_scope():
    assert detect_codebase(Config.fromfile(FCN_SR)) == 'mmseg'
    assert detect_codebase(Config.fromfile(str(REPO / 'configs' / 'resnet50_sr_in1k.py'))) \
        == 'mmpretrain'
    with pytest.raises(ConfigError, match="default_scope is 'mmdet'"):
        detect_codebase(Config(dict(default_scope='mmdet')))


def test_upstream_tools_exist():
    for codebase in ('mmseg', 'mmpretrain'):
        for name in ('train', 'test'):
            assert upstream_tool(codebase, name).is_file()


def test_sr_off_is_enabled_false_in_every_sr_cfg():
    cfg = Config.fromfile(FCN_SR)
    assert sr_off_options(cfg) == ['model.backbone.sr_cfg.enabled=False']
    cfg.merge_from_dict(dict(model=dict(auxiliary_head=dict(sr_cfg=dict(after_stage=1)))))
    assert sr_off_options(cfg) == ['model.backbone.sr_cfg.enabled=False',
                                   'model.auxiliary_head.sr_cfg.enabled=False']
    with pytest.raises(ConfigError, match='has no SR block'):
        sr_off_options(Config.fromfile(str(REPO / 'configs' / 'fcn_r50_cityscapes.py')))


def test_cpu_distributed_options_and_syncbn_refusal():
    cfg = Config.fromfile(FCN_SR)
    with pytest.raises(ConfigError) as error:
        cpu_distributed_options(cfg)
    message = str(error.value)
    for key in ('model.backbone.norm_cfg.type=BN', 'model.decode_head.norm_cfg.type=BN',
                'model.auxiliary_head.norm_cfg.type=BN'):
        assert key in message
    cfg.merge_from_dict({'model.backbone.norm_cfg.type': 'BN',
                         'model.decode_head.norm_cfg.type': 'BN',
                         'model.auxiliary_head.norm_cfg.type': 'BN'})
    cfg.merge_from_dict(parse_options(cpu_distributed_options(cfg)))
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel', device_ids=None,
                                         broadcast_buffers=False, find_unused_parameters=False)
    cfg.model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')  # kept as it is
    cfg.merge_from_dict(parse_options(cpu_distributed_options(cfg)))
    assert cfg.model_wrapper_cfg == dict(type='MMSeparateDistributedDataParallel',
                                         device_ids=None)


def parse_options(options):
    """``--cfg-options`` as the upstream scripts parse them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def test_tools_print_one_line_errors(tmp_path, capsys):
    assert run_tool('train', [str(tmp_path / 'missing.py')]) == 2
    assert "config file" in capsys.readouterr().err
    assert run_tool('train', [FCN_SR, '--work-dir', str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith('tools/train.py: error: train_dataloader.dataset:') and \
        'Traceback' not in err
    assert run_tool('test', [str(REPO / 'configs' / 'fcn_r50_cityscapes.py'),
                             str(tmp_path / 'x.pth'), '--sr-off']) == 2
    assert 'has no SR block' in capsys.readouterr().err


def test_config_bases_without_pkg_resources_say_what_to_install(capsys, monkeypatch):
    """setuptools >= 81 has no pkg_resources, which mmengine 0.10 imports to find the package
    of an ``mmseg::`` base: one line saying which setuptools to install, no traceback
    (tests/test_install.py shows it with the newest setuptools installed)."""
    monkeypatch.setitem(sys.modules, 'pkg_resources', None)  # import pkg_resources now fails
    assert run_tool('train', [FCN_SR]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'tools/train.py: error: {FCN_SR}: mmengine ') and \
        err.endswith('dropped it): pip install "setuptools<81"\n') and err.count('\n') == 1


OWN_RUNNER = '''
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


@RUNNERS.register_module()
class RunnerWithItsOwnFromCfg(Runner):
    built = []

    @classmethod
    def from_cfg(cls, cfg):
        cls.built.append(cfg)
        raise SystemExit('built')
'''


def test_sr_off_reaches_the_runner_as_a_config_option(tmp_path, monkeypatch):
    """mmpretrain's test.py builds ``runner_type`` through RUNNERS.build: the config that
    reaches the runner has the SR block switched off, and nothing else of the model changed."""
    (tmp_path / 'own_runner.py').write_text(OWN_RUNNER)
    monkeypatch.syspath_prepend(str(tmp_path))
    import own_runner  # noqa: F401
    config = str(REPO / 'configs' / 'resnet50_sr_in1k.py')
    with pytest.raises(SystemExit, match='built'):
        run_tool('test', [config, str(tmp_path / 'x.pth'), '--sr-off', '--cfg-options',
                          'runner_type=RunnerWithItsOwnFromCfg'])
    (cfg, ) = own_runner.RunnerWithItsOwnFromCfg.built
    assert cfg.model.backbone.sr_cfg.enabled is False
    expected = Config.fromfile(config)
    expected.merge_from_dict({'model.backbone.sr_cfg.enabled': False,
                              'runner_type': 'RunnerWithItsOwnFromCfg',
                              'load_from': str(tmp_path / 'x.pth')})
    assert cfg.model == expected.model
