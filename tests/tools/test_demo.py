"""tools/demo.py end to end at a tiny size (the real run is `make demo`)."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_demo_trains_both_models_and_writes_pictures(tmp_path):
    demo = load_tool('demo')
    summary = demo.main(['--iters', '2', '--depth', '18', '--num-train', '4', '--num-val', '2',
                         '--batch-size', '2', '--image-size', '64', '128', '--crop', '32', '64',
                         '--work-dir', str(tmp_path)])
    assert set(summary) == {'DeepLabV3', 'DeepLabV3 + SR'}
    for result in summary.values():
        assert 0.0 <= result['metrics']['mIoU'] <= 100.0 and result['iter_time'] > 0
    assert summary['DeepLabV3 + SR']['params'] > summary['DeepLabV3']['params']
    for name in ('predictions.png', 'sr_memory_weights.png', 'demo_results.txt'):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / 'demo_results.json').read_text()) == json.loads(
        json.dumps(summary))
    text = (tmp_path / 'demo_results.txt').read_text()
    assert 'synthetic' in text and 'SR overhead' in text
    # the synthetic data is in the real Cityscapes layout, label ids and train ids
    gt = tmp_path / 'synthetic_cityscapes' / 'gtFine' / 'val'
    assert list(gt.rglob('*_gtFine_labelIds.png')) and list(gt.rglob('*_gtFine_labelTrainIds.png'))


def test_demo_refuses_a_folder_that_is_not_cityscapes(tmp_path):
    demo = load_tool('demo')
    with pytest.raises(SystemExit, match='is not a Cityscapes folder'):
        demo.main(['--data-root', str(tmp_path), '--work-dir', str(tmp_path / 'w')])
