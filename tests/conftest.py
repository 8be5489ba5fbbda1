"""Test-wide set-up: ``import mmsr`` (registers the models, as ``custom_imports`` does), the
``gpu`` marker (such a test is skipped, for one listed reason, where no CUDA device is visible),
and the skip policy: a skip whose reason is not one of ``allowed_skips.ALLOWED`` fails the run."""
import pytest
import torch

import mmsr  # noqa: F401
from allowed_skips import ALLOWED, NO_CUDA


def pytest_configure(config):
    config.addinivalue_line('markers', 'gpu: needs a CUDA device (skipped without one)')


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    for item in items:
        if item.get_closest_marker('gpu'):
            item.add_marker(pytest.mark.skip(reason=NO_CUDA))

_unlisted_skips = []


def pytest_runtest_logreport(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2].removeprefix('Skipped: ')
        if reason not in ALLOWED:
            _unlisted_skips.append(f'{report.nodeid}: {reason}')


def pytest_terminal_summary(terminalreporter):
    if _unlisted_skips:
        terminalreporter.section('skips not listed in tests/allowed_skips.py', red=True)
        for line in _unlisted_skips:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    if _unlisted_skips and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
