"""Test-wide set-up: ``import mmsr`` (registers the models, as ``custom_imports`` does), the
reference runs several tests share (``reference_runs.py``), one thread per pytest-xdist worker,
the ``gpu`` marker (such a test is skipped, for one listed reason, where no CUDA device is visible),
and the skip policy of ``allowed_skips.py``: a skip for an unlisted reason, a module skipped at
collection, an ``xfail``, or a set of skipped tests other than the stack's listed one fails the
run."""
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
