# The developer loop. Every target installs what it needs first.
# `make help` lists them; T=tests/chart narrows a test run.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
T      ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt typecheck pytest clean

help: ## Show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## Create .venv and install the project (quick when done)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=...)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: install ## Run the product: embedded NATS + PostgreSQL + the four services
	$(PY) -m shared.launcher

test: lint typecheck pytest ## Lint, type-check and run every test

lint: install ## ruff: lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install ## ruff: fix and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install ## mypy --strict
	$(VENV)/bin/mypy

pytest: install ## pytest (T=path narrows)
	$(VENV)/bin/pytest $(T)

clean: ## Remove caches (keeps .venv and .data)
	rm -rf .pytest_cache .mypy_cache .ruff_cache build *.egg-info
