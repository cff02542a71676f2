# Every target says what it does; `make help` lists them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install test test-unit test-e2e lint typecheck dev token clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the services with their test tools

test: $(STAMP) ## lint, type-check, then every test (unit, in-process, end-to-end)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest

test-unit: $(STAMP) ## only the fast tests (no processes started)
	$(PY) -m pytest -m "not e2e"

test-e2e: $(STAMP) ## only the end-to-end tests (services as real processes)
	$(PY) -m pytest -m e2e

lint: $(STAMP) ## ruff (including the ASYNC rules) and mypy strict
	$(PY) -m ruff check .
	$(PY) -m mypy

dev: $(STAMP) ## run users, activities and gateway on 8002, 8001, 8000 without Docker (Ctrl-C stops all)
	$(PY) -m services.dev

token: $(STAMP) ## print a bearer token for andrewbrown (USER_HANDLE=handle for another)
	@$(PY) -m services.gateway.token $${USER_HANDLE:-andrewbrown}

clean: ## remove the virtualenv, caches and local databases
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data
