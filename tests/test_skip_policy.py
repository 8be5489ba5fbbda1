"""The skip policy (``skip_policy.py``), run on small test files of its own: each way a test
can go unrun without failing fails the run instead."""
from pathlib import Path

import pytest

from allowed_skips import NO_ONNX

pytest_plugins = ['pytester']
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def policy_run(pytester, monkeypatch):
    """Run pytest on ``source`` with only the skip policy as plugin: (exit code, output)."""
    monkeypatch.setenv('PYTHONPATH', str(TESTS))

    def run(source):
        pytester.makepyfile(test_inner=source)
        result = pytester.runpytest_subprocess('-p', 'skip_policy', '-p', 'no:cacheprovider')
        return result.ret, result.stdout.str()
    return run


def test_a_skip_for_a_listed_reason_the_stack_does_not_list_fails(policy_run):
    code, output = policy_run(f'import pytest\n'
                              f'def test_a():\n    pytest.skip({NO_ONNX!r})\n')
    assert code == 1 and "test_inner.py::test_a: skipped, but requirements/" in output


def test_a_skip_for_an_unlisted_reason_fails(policy_run):
    code, output = policy_run('import pytest\n'
                              'def test_a():\n    pytest.skip("not today")\n')
    assert code == 1 and 'skipped for a reason not listed' in output and 'not today' in output


def test_a_module_skipped_at_collection_fails(policy_run):
    code, output = policy_run('import pytest\n'
                              'pytest.importorskip("no_such_module_here")\n'
                              'def test_a():\n    pass\n')
    assert code == 1 and 'skipped at collection' in output


def test_an_xfail_fails(policy_run):
    code, output = policy_run('import pytest\n'
                              '@pytest.mark.xfail(reason="later")\n'
                              'def test_a():\n    assert False\n')
    assert code == 1 and 'xfail: a test must pass or fail' in output


def test_tests_that_run_pass(policy_run):
    code, output = policy_run('def test_a():\n    pass\n')
    assert code == 0, output
