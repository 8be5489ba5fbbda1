"""mmsr.cli.upstream_tools: the checks and adaptations tools/train.py and tools/test.py make
before the upstream script builds its runner, and their one-line errors."""
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from mmsr.cli.upstream_tools import (adapt_for_cpu_distributed, check_data_paths, disable_sr,
                                     run_tool, upstream_tool)
from mmsr.datasets import make_cityscapes_layout, make_imagenet_layout
from mmsr.errors import ConfigError, DataNotFoundError
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


def test_missing_dataset_folder_names_the_key_to_set(tmp_path):
    cfg = Config.fromfile(FCN_SR)
    with pytest.raises(DataNotFoundError) as error:
        check_data_paths(cfg, ['train_dataloader'])
    assert "data_root='data/cityscapes/' does not exist" in str(error.value)
    assert '(README, "Data preparation")' in str(error.value)
    assert '\n## Data preparation\n' in (REPO / 'README.md').read_text()
    assert '--cfg-options train_dataloader.dataset.data_root=' in str(error.value)


def test_missing_subfolder_and_wrapped_datasets(tmp_path):
    root = make_cityscapes_layout(tmp_path / 'cityscapes', num_train=1, num_val=1)
    cfg = Config.fromfile(FCN_SR)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(root)
    check_data_paths(cfg, ['train_dataloader', 'val_dataloader', 'test_dataloader'])
    cfg.train_dataloader.dataset.data_prefix.seg_map_path = 'gtCoarse/train'
    with pytest.raises(DataNotFoundError, match=r'data_prefix\.seg_map_path'):
        check_data_paths(cfg, ['train_dataloader'])
    cfg.train_dataloader.dataset = dict(type='RepeatDataset', times=2,
                                        dataset=dict(type='CityscapesDataset',
                                                     data_root=str(tmp_path / 'nowhere')))
    with pytest.raises(DataNotFoundError,
                       match=r'train_dataloader\.dataset\.dataset\.data_root=/path'):
        check_data_paths(cfg, ['train_dataloader'])


def test_cifar_needs_its_pickle_folder_unless_it_downloads(tmp_path):
    cfg = Config.fromfile(str(REPO / 'configs' / 'cifar10' / 'resnet18-sr_1xb128_cifar10.py'))
    cfg.test_dataloader.dataset.data_root = str(tmp_path)
    with pytest.raises(DataNotFoundError, match='cifar-10-batches-py'):
        check_data_paths(cfg, ['test_dataloader'])
    cfg.test_dataloader.dataset.download = True
    check_data_paths(cfg, ['test_dataloader'])


def test_disable_sr_sets_enabled_false_everywhere():
    cfg = Config.fromfile(FCN_SR)
    assert disable_sr(cfg) == 1 and cfg.model.backbone.sr_cfg.enabled is False
    with pytest.raises(ConfigError, match='has no SR block'):
        disable_sr(Config.fromfile(str(REPO / 'configs' / 'fcn_r50_cityscapes.py')))


def test_cpu_distributed_adaptation_and_syncbn_refusal():
    cfg = Config.fromfile(FCN_SR)
    with pytest.raises(ConfigError) as error:
        adapt_for_cpu_distributed(cfg)
    message = str(error.value)
    for key in ('model.backbone.norm_cfg.type=BN', 'model.decode_head.norm_cfg.type=BN',
                'model.auxiliary_head.norm_cfg.type=BN'):
        assert key in message
    cfg.merge_from_dict({'model.backbone.norm_cfg.type': 'BN',
                         'model.decode_head.norm_cfg.type': 'BN',
                         'model.auxiliary_head.norm_cfg.type': 'BN'})
    adapt_for_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None


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


@pytest.mark.parametrize('runner_type', ['Runner', 'RunnerWithItsOwnFromCfg'])
def test_runner_type_configs_get_the_same_checks(runner_type, tmp_path, capsys, monkeypatch):
    """A config with runner_type is built through RUNNERS.build, not Runner.from_cfg: the
    data checks and --sr-off run all the same, before the runner exists."""
    (tmp_path / 'own_runner.py').write_text(OWN_RUNNER)
    monkeypatch.syspath_prepend(str(tmp_path))
    import own_runner  # noqa: F401
    typed = ['--cfg-options', f'runner_type={runner_type}']
    assert run_tool('train', [FCN_SR, '--work-dir', str(tmp_path), *typed]) == 2
    assert capsys.readouterr().err.startswith('tools/train.py: error: train_dataloader.dataset:')
    assert run_tool('test', [str(REPO / 'configs' / 'fcn_r50_cityscapes.py'),
                             str(tmp_path / 'x.pth'), '--sr-off', *typed]) == 2
    assert 'has no SR block' in capsys.readouterr().err
    if runner_type == 'RunnerWithItsOwnFromCfg':  # the config reaching it is the checked one
        root = make_imagenet_layout(tmp_path / 'imagenet', 2, 1, 1)
        with pytest.raises(SystemExit, match='built'):  # mmpretrain's test.py: RUNNERS.build
            run_tool('test', [str(REPO / 'configs' / 'resnet50_sr_in1k.py'),
                              str(tmp_path / 'x.pth'), '--sr-off', *typed,
                              f'test_dataloader.dataset.data_root={root}'])
        (cfg, ) = own_runner.RunnerWithItsOwnFromCfg.built
        assert cfg.model.backbone.sr_cfg.enabled is False
