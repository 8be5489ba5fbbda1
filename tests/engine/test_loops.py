"""mmsr.engine.loops: ``test_cfg = dict(type='CheckedTestLoop')`` checks the test data under a
plain mmengine ``Runner`` (as mmseg's tools/test.py builds it), once."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmsr.datasets import make_imagenet_layout
from mmsr.datasets.checked_loading import CheckedLoading
from mmsr.errors import DataError, DataNotFoundError
from tool_runs import imagenet_options

TINY = Path(__file__).resolve().parents[1] / 'data' / 'configs' / 'tiny_resnet18_sr_imagenet.py'


def plain_runner(root, tmp_path, **test_cfg) -> Runner:
    cfg = Config.fromfile(str(TINY))
    cfg.merge_from_dict(dict(kv.split('=', 1) for kv in imagenet_options(root)
                             if kv.startswith('test_dataloader.dataset.data_root')))
    cfg.merge_from_dict({'test_dataloader.dataset.pipeline.1.scale': 36,
                         'test_dataloader.dataset.pipeline.2.crop_size': 32,
                         'model.backbone.sr_cfg.input_size': (32, 32)})
    cfg.test_cfg = test_cfg
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    assert type(runner) is Runner
    return runner


def test_checked_test_loop_names_a_missing_folder_before_the_dataset_is_built(tmp_path):
    runner = plain_runner(tmp_path / 'nowhere', tmp_path, type='CheckedTestLoop')
    with pytest.raises(DataNotFoundError, match=r"^test_dataloader\.dataset: the ImageNet "
                       r"folder data_root='.*nowhere' does not exist"):
        runner.test()


def test_checked_test_loop_names_an_unreadable_image(tmp_path):
    root = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=1)
    image = sorted((root / 'val').rglob('*.JPEG'))[1]
    image.write_bytes(b'not a picture')
    runner = plain_runner(root, tmp_path, type='CheckedTestLoop')
    with pytest.raises(DataError, match=rf'^test_dataloader\.dataset: image {image} cannot be '
                       r'read \(.*\) \(named by line 2 of .*val\.txt\); replace the file'):
        runner.test()
    # One wrapper per loading step: the check runs once per sample.
    transforms = runner.test_loop.dataloader.dataset.pipeline.transforms
    assert isinstance(transforms[0], CheckedLoading)
    assert not isinstance(transforms[0].transform, CheckedLoading)


def test_the_stock_test_loop_is_not_checked(tmp_path):
    """What the config's test_cfg adds: the stock TestLoop meets the same file unchecked."""
    root = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=1)
    sorted((root / 'val').rglob('*.JPEG'))[1].write_bytes(b'not a picture')
    runner = plain_runner(root, tmp_path, type='TestLoop')
    with pytest.raises(Exception) as error:
        runner.test()
    assert not isinstance(error.value, DataError)
