# Two commands do all the set-up on a fresh machine with Python 3 and pip:
#   make demo   -- create .venv, install skfocal with its extras, run the main job
#   make test   -- create .venv if needed, install the test extras, run every test
#
# TORCH_SPEC lets a CPU-only machine pick a local CPU wheel instead of the
# default (CUDA) build, e.g.  make test TORCH_SPEC="torch==2.13.0"

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
DEMO_OUTPUT ?= benchmark-results/quick
PYTEST_ARGS ?=

.PHONY: demo test lint format docs clean venv

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
