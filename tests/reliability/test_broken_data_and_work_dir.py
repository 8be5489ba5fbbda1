"""The repo's tools on broken data and an unwritable work dir: exit status 2 and one line that
names the file and the dataset key (or the folder), never a traceback - also when the failing
sample is loaded in a dataloader worker, and when testing."""
import os

import pytest
from PIL import Image

from mmsr.cli.upstream_tools import upstream_tool
from mmsr.datasets import make_imagenet_layout
from tool_runs import REPO, TOOLS, imagenet_options, python, run


def error_line(output, tool):
    assert 'Traceback' not in output, output[-3000:]
    lines = [line for line in output.splitlines() if line.startswith(f'{tool}: error: ')]
    assert len(lines) == 1, output[-3000:]
    return lines[0][len(f'{tool}: error: '):]


def test_train_on_an_empty_image_in_a_worker(tmp_path):
    root = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=4)
    image = root / 'train' / 'n00000002' / 'n00000002_3.JPEG'
    open(image, 'wb').close()
    output = run(python(TOOLS / 'train.py', REPO / 'configs' / 'resnet50_sr_in1k.py',
                        '--work-dir', tmp_path / 'work', '--cfg-options',
                        *imagenet_options(root, workers=True), 'train_dataloader.num_workers=2'),
                 tmp_path, expect_rc=2)
    assert error_line(output, 'tools/train.py') == (
        f'train_dataloader.dataset: image {image} is empty (0 bytes) (named by line 12 of '
        f'{root / "meta" / "train.txt"})')


@pytest.mark.xdist_group('fcn_dist_run')
def test_test_tool_on_a_label_map_of_the_wrong_size(fcn_dist_run, tmp_path):
    root = fcn_dist_run.copy_of_data(tmp_path)
    config, checkpoint = fcn_dist_run.config, fcn_dist_run.work / 'iter_2.pth'
    options = fcn_dist_run.options_for(root)
    labels = next((root / 'gtFine' / 'val').glob('*/*_labelTrainIds.png'))
    Image.open(labels).resize((64, 32)).save(labels)
    image = root / 'leftImg8bit' / 'val' / labels.parent.name / labels.name.replace(
        'gtFine_labelTrainIds', 'leftImg8bit')
    output = run(python(TOOLS / 'test.py', config, checkpoint,
                        '--work-dir', tmp_path / 'test', '--cfg-options', *options),
                 tmp_path, expect_rc=2)
    message = (f'test_dataloader.dataset: label map {labels} is 32x64 but its image {image} is '
               "64x128 (height x width); a label map must have its image's size")
    assert error_line(output, 'tools/test.py') == message
    # The stock mmseg tools/test.py builds a plain Runner whatever runner_type says; the
    # config's test_cfg (CheckedTestLoop) checks its data all the same: its traceback ends in
    # the same message.
    output = run(python(upstream_tool('mmseg', 'test'), config, checkpoint,
                        '--work-dir', tmp_path / 'stock', '--cfg-options', *options),
                 tmp_path, expect_rc=1)
    assert output.strip().splitlines()[-1] == f'mmsr.errors.DataError: {message}'


def test_an_unwritable_work_dir_stops_training_before_it_starts(tmp_path):
    blocked = tmp_path / 'a-file'
    blocked.write_text('')
    work = blocked / 'work'
    output = run(python(TOOLS / 'train.py', REPO / 'configs' / 'resnet50_sr_in1k.py',
                        '--work-dir', work, '--cfg-options',
                        *imagenet_options(make_imagenet_layout(tmp_path / 'imagenet'))),
                 tmp_path, expect_rc=2)
    assert error_line(output, 'tools/train.py') == (
        f'the work dir {work} cannot be written (Not a directory); pass --work-dir with a '
        'writable folder (or set work_dir in the config)')
    assert 'Epoch(train)' not in output and os.path.isfile(blocked)
