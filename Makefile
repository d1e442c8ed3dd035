# Every target bootstraps .venv itself; a fresh machine needs only python3 (>= 3.11) and pip.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: test lint typecheck pytest emulator bench bench-quick docs fuzz load kill-restart components clean venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## The one command that runs every check: lint, format, types, docs, tests.
test: lint typecheck docs components pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

## Real components the ecosystem tests drive (Chromium, AWS CLI, AWS SDK for JavaScript...).
components: $(STAMP)
	bash scripts/install-components.sh

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -q -d site

## Long runs that report figures (request count and 5xx count; sends and losses).
fuzz: $(STAMP)
	$(PY) -m tests.fuzz --requests 20000

load: $(STAMP)
	SESKIT_LOAD_CLIENTS=64 SESKIT_LOAD_SENDS=50 SESKIT_LOAD_STORES=memory,sqlite $(PY) -m pytest -s tests/integration/test_load.py

kill-restart: $(STAMP)
	SESKIT_KILL_CLIENTS=64 SESKIT_KILL_SENDS=50 SESKIT_KILL_AFTER=1500 $(PY) -m pytest -s tests/integration/test_persistence_restart.py -k sigkill

## Start the emulator on 127.0.0.1:4579 (flags: make emulator ARGS="--profile sandbox").
emulator: $(STAMP)
	$(PY) -m emulator $(ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks

bench-quick: $(STAMP)
	$(PY) -m benchmarks --quick

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
