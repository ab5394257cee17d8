# Two commands do all the set-up on a fresh machine with Python 3 and pip:
#   make demo   -- create .venv, install skfocal with its extras, run the main job
#   make test   -- create .venv if needed, install the test extras, run every test
#
# TORCH_SPEC lets a CPU-only machine pick a local CPU wheel instead of the
# default (CUDA) build, e.g.  make test TORCH_SPEC="torch==2.13.0"
#
#   make test-oldest -- the estimator tests against the oldest scikit-learn and
#                       skorch that pyproject.toml allows, in their own venv

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
DEMO_OUTPUT ?= benchmark-results/quick
PYTEST_ARGS ?=
# The low end of the version window in pyproject.toml (scikit-learn>=1.6,
# skorch>=1.0). build/ is git-ignored and skipped by ruff and pytest.
OLDEST_VENV ?= build/venv-oldest
OLDEST_PINS ?= "scikit-learn==1.6.1" "skorch==1.0.0"
ESTIMATOR_TESTS ?= tests/test_classifier.py tests/test_common.py tests/test_net.py \
	tests/test_ensemble.py tests/test_robustness.py tests/test_loss_specs.py

.PHONY: demo test test-oldest lint format docs clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# One stamp per extra set: reinstall only when pyproject.toml changes.
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet "$(TORCH_SPEC)"
	$(PIP) install --quiet -e ".[$*]"
	touch $@

venv: $(VENV)/.installed-dev

demo: $(VENV)/.installed-benchmark
	$(BIN)/skfocal benchmark --suite quick --output $(DEMO_OUTPUT)
	@echo "Report: $(DEMO_OUTPUT)/summary.md"

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# One pip call with the pins among the requirements: the resolver must keep
# them, and fails rather than upgrade them.
$(OLDEST_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)" $(OLDEST_PINS) \
		-e . pytest pandas imbalanced-learn
	touch $@

test-oldest: $(OLDEST_VENV)/.installed
	@$(OLDEST_VENV)/bin/python -c "import sklearn, skorch, torch, numpy; \
	print(f'Oldest versions tested: scikit-learn {sklearn.__version__}, ' \
	f'skorch {skorch.__version__}, torch {torch.__version__}, numpy {numpy.__version__}')"
	$(OLDEST_VENV)/bin/python -m pytest -p no:cacheprovider $(ESTIMATOR_TESTS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf docs/_build docs/auto_examples .pytest_cache
