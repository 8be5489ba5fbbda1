"""The skip policy of ``allowed_skips.py``, as pytest hooks (``conftest.py`` uses them; a test
runs them on its own with ``-p skip_policy``): a skip for an unlisted reason, a module skipped
at collection, an ``xfail``, or a set of skipped tests other than the running stack's listed
one fails the run."""
import re
from pathlib import Path

import pytest
import torch

from allowed_skips import ALLOWED, EXPECTED, NO_CUDA

REPO = Path(__file__).resolve().parents[1]


def running_stack() -> str:
    """The requirements file whose torch pin is the installed torch ('' if none is)."""
    installed = torch.__version__.split('+')[0]
    for path in sorted((REPO / 'requirements').glob('stack*.txt')):
        if re.search(rf'^torch=={re.escape(installed)}\s*$', path.read_text(), re.MULTILINE):
            return f'requirements/{path.name}'
    return ''


class SkipPolicy:

    def __init__(self):
        self.collected, self.skipped, self.problems = set(), {}, []

    def collect_report(self, report):
        if report.skipped:
            self.problems.append(f'{report.nodeid}: skipped at collection (a module-level skip '
                                 'or importorskip): skip single tests, for a listed reason')

    def test_report(self, report):
        if hasattr(report, 'wasxfail'):
            self.problems.append(f'{report.nodeid}: xfail: a test must pass or fail')
        elif report.skipped and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2].removeprefix('Skipped: ')
            self.skipped[report.nodeid] = reason
            if reason not in ALLOWED:
                self.problems.append(f'{report.nodeid}: skipped for a reason not listed in '
                                     f'tests/allowed_skips.py: {reason}')

    def check_set(self):
        stack = running_stack()
        if not stack:
            return  # not one of the repository's stacks: the listed reasons still hold
        cuda = torch.cuda.is_available()
        expected = {nodeid: reason for nodeid, reason in EXPECTED.get(stack, {}).items()
                    if nodeid in self.collected and not (cuda and reason == NO_CUDA)}
        for nodeid, reason in sorted(self.skipped.items()):
            if nodeid not in expected:
                self.problems.append(f'{nodeid}: skipped, but {stack} runs it (allowed_skips.py, '
                                     'EXPECTED)')
            elif reason != expected[nodeid]:
                self.problems.append(f'{nodeid}: skipped for "{reason}", listed for '
                                     f'"{expected[nodeid]}"')
        for nodeid in sorted(set(expected) - set(self.skipped)):
            self.problems.append(f'{nodeid}: listed as skipped on {stack} (allowed_skips.py, '
                                 'EXPECTED) but it ran: update the list')


_policy = SkipPolicy()


def pytest_collection_finish(session):
    _policy.collected |= {item.nodeid for item in session.items}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    _policy.collected |= set(ids)  # pytest-xdist: the controller collects nothing itself


def pytest_collectreport(report):
    _policy.collect_report(report)


def pytest_runtest_logreport(report):
    _policy.test_report(report)


def pytest_terminal_summary(terminalreporter):
    if _policy.problems:
        terminalreporter.section('skip policy (tests/allowed_skips.py)', red=True)
        for line in _policy.problems:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, 'workerinput'):
        return  # a pytest-xdist worker: the controller sees every report and checks them
    _policy.check_set()
    if _policy.problems and exitstatus in (pytest.ExitCode.OK,
                                           pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
