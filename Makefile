# Every target says what it does; `make help` lists them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
UV := $(VENV)/bin/uv
STALE := pyproject.toml, uv.lock and requirements/ disagree: run 'make lock', then commit uv.lock and requirements/

# uv.lock is the lock. requirements/*.txt are its exports for pip, with hashes: app.txt the services (what
# the image installs), dev.txt with the test tools (make install without uv), load.txt with Locust (the
# image's loadgen stage). $(1) is the folder to write them to.
EXPORT := $(UV) export --frozen --quiet --format requirements-txt --no-emit-project
define export_lock
	@mkdir -p $(1)
	@$(EXPORT) > $(1)/app.txt
	@$(EXPORT) --extra dev > $(1)/dev.txt
	@$(EXPORT) --extra load > $(1)/load.txt
endef

.PHONY: help install lock upgrade check-lock scan-tools test test-unit test-inprocess test-e2e w3c lint typecheck dev token scenario \
	web clean bench bench-quick bench-profile wrk

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The uv that uv.lock pins, hash-checked by pip (its entry in requirements/dev.txt), in .venv.
$(UV):
	$(PYTHON) -m venv $(VENV)
	awk '/^uv==/ {on = 1} on {print} on && !/\\$$/ {exit}' requirements/dev.txt > $(VENV)/uv-requirement.txt
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(VENV)/uv-requirement.txt

# Exactly what uv.lock says (packages missing from it removed), then the project itself, editable. No
# prerequisite on $(UV): a .venv installed from requirements/dev.txt by pip (README) is used as it is.
$(STAMP): pyproject.toml uv.lock
	@$(MAKE) --no-print-directory check-lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --extra dev
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the services with their test tools, the versions uv.lock pins

lock: | $(UV) ## after editing pyproject.toml: re-resolve uv.lock (other pins kept), rewrite requirements/
	$(UV) lock
	$(call export_lock,requirements)

upgrade: | $(UV) ## every package to the newest version pyproject.toml allows (PACKAGE=name: that one only)
	$(UV) lock $(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade)
	$(call export_lock,requirements)
	@echo "next: make test, read git diff uv.lock, commit uv.lock and requirements/"

check-lock: | $(UV) ## fail when pyproject.toml, uv.lock and requirements/ disagree (make install and CI run it)
	@$(UV) lock --check --quiet || { echo "$(STALE)" >&2; exit 1; }
	$(call export_lock,$(VENV)/exports)
	@diff -r -q requirements $(VENV)/exports || { echo "$(STALE)" >&2; exit 1; }

# checkov pins older boto3/botocore and packaging than the services use: its own virtualenv, so the
# tests run against the project's versions. tests/unit/test_security_scan.py is skipped without it.
CHECKOV_VERSION := 3.3.30
.venv-checkov/.installed-$(CHECKOV_VERSION):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

scan-tools: .venv-checkov/.installed-$(CHECKOV_VERSION) ## install checkov (about 80 s) for the security scan of deploy/

test: $(STAMP) ## lint, type-check, then every test (unit, in-process, end-to-end)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest

test-unit: $(STAMP) ## only the fast tests, tests/unit/ (one piece at a time; not the in-process ones: make test-inprocess)
	$(PY) -m pytest tests/unit

test-inprocess: $(STAMP) ## only tests/inprocess/: the three apps wired together in one process (slower, no processes)
	$(PY) -m pytest tests/inprocess

test-e2e: $(STAMP) ## only the end-to-end tests (services as real processes)
	$(PY) -m pytest -m e2e

w3c: $(STAMP) ## run the W3C Trace Context suite (../shared/w3c-trace-context, 41 tests) against a service
	$(PY) -m pytest tests/e2e/test_w3c_conformance.py

lint: $(STAMP) ## ruff (including the ASYNC rules) and mypy strict
	$(PY) -m ruff check .
	$(PY) -m mypy

dev: $(STAMP) ## run users, activities, gateway without Docker (.env read; USERS_PORT, ACTIVITIES_PORT, GATEWAY_PORT: 8002, 8001, 8000)
	$(PY) -m services.dev

token: $(STAMP) ## print a bearer token for andrewbrown (USER_HANDLE=handle for another; users must be running)
	@$(PY) -m services.gateway.token $${USER_HANDLE:-andrewbrown}

scenario: $(STAMP) ## break the running stack on purpose: make scenario NAME=slow-users (no NAME: list them)
	@$(PY) -m services.scenarios $(NAME)

web: ## rebuild the page's script (services/gateway/web/app.js, committed) from web/: Node 18+, npm ci from the lock
	cd web && npm ci --no-audit --no-fund && node build.mjs

wrk: ## install the load generator wrk (apt-get, as root) unless it is already there
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; } \
	  || { echo "wrk is required: sudo apt-get install -y wrk" >&2; exit 1; }

bench: $(STAMP) wrk ## the benchmark (~12 min): every configuration, 5 rounds; writes bench-results/report.{md,json}
	$(PY) -m bench

bench-quick: $(STAMP) wrk ## the benchmark in a few minutes: bare, otel, X-Ray (in process, SDK), full at 100% and unsampled, backends down
	$(PY) -m bench --quick

bench-profile: $(STAMP) wrk ## py-spy profiles of the three services under load with OTel on (bench-results/profile-*.txt)
	$(PY) -m bench.profile

clean: ## remove the virtualenv, caches and local databases
	rm -rf $(VENV) .venv-checkov .pytest_cache .mypy_cache .ruff_cache data bench-results web/node_modules
