"""Test-wide set-up: ``import mmsr`` (registers the models, as ``custom_imports`` does), the
reference runs several tests share (``reference_runs.py``), one thread per pytest-xdist worker,
the ``gpu`` marker (such a test is skipped, for one listed reason, where no CUDA device is visible),
and the skip policy of ``allowed_skips.py``: a skip for an unlisted reason, a module skipped at
collection, an ``xfail``, or a set of skipped tests other than the stack's listed one fails the
run."""
import copy
import gc
import os

import pytest
import torch

if os.environ.get('PYTEST_XDIST_WORKER'):
    # ``make test`` runs one pytest-xdist worker per core: one thread each, also in the tools
    # the tests start (as many threads as cores per worker would contend for them).
    os.environ['OMP_NUM_THREADS'] = os.environ['MKL_NUM_THREADS'] = '1'
    torch.set_num_threads(1)

import mmsr  # noqa: F401
from allowed_skips import NO_CUDA
from reference_runs import cifar100_run, deeplabv3_run, fcn_dist_run, resnet50_run  # noqa: F401
from skip_policy import (pytest_collection_finish, pytest_collectreport,  # noqa: F401
                         pytest_runtest_logreport, pytest_sessionfinish,
                         pytest_terminal_summary, pytest_xdist_node_collection_finished)

# The objects of the modules imported so far are kept out of the garbage collector's walks
# (mmengine collects garbage after building each dataset: about half a second each otherwise).
gc.freeze()


@pytest.fixture(scope='session', autouse=True)
def metafiles_read_once():
    """mmengine resolves each ``mmseg::`` / ``mmpretrain::`` base of a config by reading every
    metafile of the codebase (about 100 YAML files, a tenth of a second), and keeps nothing
    between parses. The tests of this process parse each shipped config several times (the
    config tests, ``config_table.py --check``, ``model_index.py --check``): here, and only in
    this process, each (codebase, config) lookup reads the files once and gives the same answer
    (or raises the same error) afterwards. The tools the tests start parse as a user's do."""
    from mmengine.config import utils
    lookup, answers = utils._get_cfg_metainfo, {}

    def read_once(package_path, cfg_path):
        key = (package_path, cfg_path)
        if key not in answers:
            try:
                answers[key] = lookup(package_path, cfg_path), None
            except ValueError as error:
                answers[key] = None, str(error)
        meta, error = answers[key]
        if error is not None:
            raise ValueError(error)  # a new one each time: a kept one would keep its frames
        return copy.deepcopy(meta)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(utils, '_get_cfg_metainfo', read_once)
        yield


def pytest_configure(config):
    config.addinivalue_line('markers', 'gpu: needs a CUDA device (skipped without one)')
    config.addinivalue_line('markers', 'xdist_group(name): run on the pytest-xdist worker of '
                            'the other tests of the group (they share a reference run)')


# The folders whose tests start tools in subprocesses (tens of seconds each, minutes for a
# group sharing a reference run): run first, so that the short tests fill the workers' tails.
LONG = ('tests/reliability/', 'tests/tools/', 'tests/test_install', 'tests/configs/')


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: (not item.get_closest_marker('xdist_group'),
                                 not item.nodeid.startswith(LONG)))
    if torch.cuda.is_available():
        return
    for item in items:
        if item.get_closest_marker('gpu'):
            item.add_marker(pytest.mark.skip(reason=NO_CUDA))
