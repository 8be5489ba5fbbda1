# mmsr - two commands on a fresh machine:
#   make test   set up .venv/ (pinned OpenMMLab stack, full mmcv) and run the test suite
#   make demo   set up .venv/ and run the demo (tools/demo.py)
# Both create .venv/ in the repository root on first use and reuse it afterwards.
PYTHON_VENV := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: env test demo clean-env

env:
	bash tools/setup_env.sh

test: env
	$(PYTHON_VENV) -m pytest tests $(PYTEST_ARGS)

demo: env
	$(PYTHON_VENV) tools/demo.py $(DEMO_ARGS)

clean-env:
	rm -rf .venv
