# mmsr - two commands on a fresh machine:
#   make test   set up the test environments and run the test suite on each (the test lanes)
#   make demo   set up .venv/ and run the demo (tools/demo.py)
# Each environment is created on first use and reused afterwards (tools/setup_env.sh).
# `make test` runs the three lanes at the same time (make -j3), each one as soon as its own
# environment is set up, each target's output printed as a whole when it ends: a lane or a
# set-up alone leaves the cores idle while it waits on the processes it starts or on the disk
# (docs/testing.md).
#
# Test lanes (the supported-versions matrix of the README):
#   main     .venv/               requirements/stack.txt              the whole suite
#   torch2.1 .venv-torch2.1/      requirements/stack-torch2.1.txt     unit tests, the stock-tool
#                                 round trips, pip install into an existing environment
#   newest   .venv-torch-newest/  requirements/stack-torch-newest.txt the block and the
#                                 mmpretrain backbones on the newest torch (no full mmcv)
PYTHON_VENV := .venv/bin/python
PYTEST_ARGS ?=
# One pytest-xdist worker per core; the tests that share a reference run stay on one worker
# (tests/reference_runs.py).
TEST_WORKERS ?= auto
PYTEST := -m pytest -n $(TEST_WORKERS) --dist loadgroup
TORCH21_VENV := .venv-torch2.1
NEWEST_VENV := .venv-torch-newest
TORCH21_TESTS := tests/models tests/engine tests/datasets tests/reliability tests/analysis \
	tests/cli tests/test_package.py tests/test_torch_features.py tests/test_install.py \
	tests/test_plugin_registers_only.py \
	tests/tools/test_install_mmcv.py
# The kill-and-resume test of the iteration-based Cityscapes config runs in the main lane only
# (the torch 2.1 lane keeps the epoch-based ImageNet one and the 2-process one): saves 5 minutes.
TORCH21_DESELECT := --deselect \
	'tests/reliability/test_kill_and_resume.py::test_deeplabv3_sigkill_at_ten_points_then_resume_is_exact'
NEWEST_TESTS := tests/models/layers tests/models/backbones/test_sr_backbone.py \
	tests/models/backbones/test_mmpretrain_backbones.py tests/engine/test_safe_checkpoint.py \
	tests/test_torch_features.py

.PHONY: env env-torch2.1 env-newest test test-main test-torch2.1 test-newest \
	demo clean-env

env:
	bash tools/setup_env.sh

env-torch2.1:
	MMSR_VENV=$(TORCH21_VENV) MMSR_STACK=requirements/stack-torch2.1.txt bash tools/setup_env.sh

env-newest:
	MMSR_VENV=$(NEWEST_VENV) MMSR_STACK=requirements/stack-torch-newest.txt bash tools/setup_env.sh

test:
	$(MAKE) --no-print-directory -j3 --output-sync=target test-main test-torch2.1 test-newest

test-main: env
	$(PYTHON_VENV) $(PYTEST) tests $(PYTEST_ARGS)

test-torch2.1: env-torch2.1
	$(TORCH21_VENV)/bin/python $(PYTEST) $(TORCH21_TESTS) $(TORCH21_DESELECT) $(PYTEST_ARGS)

test-newest: env-newest
	$(NEWEST_VENV)/bin/python $(PYTEST) $(NEWEST_TESTS) $(PYTEST_ARGS)

demo: env
	$(PYTHON_VENV) tools/demo.py $(DEMO_ARGS)

clean-env:
	rm -rf .venv $(TORCH21_VENV) $(NEWEST_VENV)
