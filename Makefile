# tidings: `make demo` and `make test` work on a fresh clone with nothing but Python 3.11+.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# sam build needs the Lambda runtime's interpreter (python3.13) on PATH; find one by path,
# since pyenv's shims do not expose every installed version.
PY313_DIR := $(shell d=$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin 2>/dev/null | tail -n 1); \
	if [ -n "$$d" ]; then echo "$$d"; elif command -v python3.13 >/dev/null; then dirname "$$(command -v python3.13)"; fi)
export SAM_CLI_TELEMETRY := 0
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install demo test lint typecheck pytest template build deploy bench requirements browser clean

help:
	@echo "make demo   - run the whole pipeline locally (emulated AWS), digests in outbox/"
	@echo "make test   - lint, type-check, tests, template validation and build"
	@echo "make bench  - benchmarks, figures written to benchmarks/RESULTS.md"
	@echo "make deploy - sam build && sam deploy --guided"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/tidings demo

test: install lint typecheck pytest template

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/layer_requirements.py --check

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

template: install
	$(BIN)/sam validate --lint
	@if [ -n "$(PY313_DIR)" ]; then \
		echo "sam build with $(PY313_DIR)/python3.13"; \
		PATH="$(PY313_DIR):$$PATH" $(BIN)/sam build --cached; \
	else \
		echo "SKIPPED sam build: no python3.13 interpreter found (install one, or set PYENV_ROOT)"; \
	fi

build: install
	PATH="$(PY313_DIR):$$PATH" $(BIN)/sam build

deploy: build
	$(BIN)/sam deploy --guided

bench: install
	$(BIN)/python benchmarks/run.py

# Debian's Chromium, for tests/e2e/test_email_layout.py (skipped where it is missing, unless
# TIDINGS_REQUIRE_BROWSER=1, as in CI). Needs root and apt.
browser:
	@command -v chromium >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

requirements: install
	$(BIN)/python scripts/layer_requirements.py

clean:
	rm -rf .aws-sam outbox .pytest_cache .mypy_cache .ruff_cache
