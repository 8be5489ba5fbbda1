"""tools/misc/model_index.py: ``model-index.yml`` and the per-family ``metafile.yml`` are the
ones generated from ``configs/paper_rows.csv`` and the configs, and OpenMMLab's model-index
package loads them without an error: every config once, with its paper row."""
import sys
from pathlib import Path

import modelindex
import pytest

from mmsr.analysis.paper_rows import read_paper_rows

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def model_index_tool():
    sys.path.insert(0, str(REPO / 'tools' / 'misc'))
    try:
        import model_index
    finally:
        sys.path.pop(0)
    return model_index


def test_files_are_the_generated_ones(model_index_tool, capsys):
    assert model_index_tool.main(['--check']) == 0, capsys.readouterr().out


def test_check_names_a_stale_file(model_index_tool, tmp_path, capsys, monkeypatch):
    stale = tmp_path / 'metafile.yml'
    stale.write_text('Models: []\n')
    monkeypatch.setattr(model_index_tool, 'REPO', tmp_path)
    monkeypatch.setattr(model_index_tool, 'generated', lambda: {stale: 'Models:\n- Name: x\n'})
    assert model_index_tool.main(['--check']) == 1
    assert capsys.readouterr().out.startswith('out of date: metafile.yml; run ')


def test_every_config_once_with_its_paper_row():
    index = modelindex.load(str(REPO / 'model-index.yml'))
    assert index.check(silent=True) == []
    rows = read_paper_rows(REPO / 'configs')
    models = {model.config: model for model in index.models}
    assert len(models) == len(index.models)
    assert set(models) == {f'configs/{config}' for config in rows}
    collections = {collection.name for collection in index.collections}
    for config, row in rows.items():
        model = models[f'configs/{config}']
        assert model.name == Path(config).stem and model.in_collection in collections
        (result, ) = model.results
        ours, *paper = result.metrics.values()
        assert ours == 'not reproduced here' and not model.weights
        metadata = model.metadata.data
        if row.is_paper_row:
            assert metadata['Paper Row'] == f'{row.row} (Table {row.table})'
            assert paper == [row.paper_result or f"in the paper's Table {row.table}"]
        else:
            assert paper == []
        if row.has_sr:
            assert metadata['SR Block'] == dict(M=row.M, P=row.P, h=row.h,
                                                after_stage=row.after_stage)
    deeplabv3 = models['configs/deeplabv3_r50_sr_cityscapes.py']
    assert deeplabv3.metadata.data['Iterations'] == 80000
    assert deeplabv3.metadata.data['Architecture'] == ['ResNetV1cSR']
    assert deeplabv3.results[0].dataset == 'Cityscapes'
    assert deeplabv3.results[0].task == 'Semantic Segmentation'
