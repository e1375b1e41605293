# The developer loop. Every target installs what it needs first.
# `make help` lists them; T=tests/chart narrows a test run.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
T      ?=

.DEFAULT_GOAL := help
.PHONY: help install run cluster test openapi lint fmt typecheck pytest pytest-cluster client client-test chromium wrk promtool chaos soak validate up bench bench-chart bench-status bench-reader bench-intake bench-storage bench-priority clean

help: ## Show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## Create .venv and install the project (quick when done)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=...)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: install ## Run the product: embedded NATS + PostgreSQL + the four services + the API gateway (:8000)
	$(PY) -m shared.launcher

cluster: install ## Production shape: 3 clustered NATS servers (R3), SERVICE_REPLICAS processes each
	$(PY) -m shared.launcher --cluster

test: lint typecheck pytest pytest-cluster client-test ## Lint, type-check, every test; bus tests again on a 3-node cluster; the TypeScript client's tests

openapi: install ## Rewrite docs/openapi.json, the API document both services serve
	$(PY) -m shared.api_document

lint: install ## ruff: lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install ## ruff: fix and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install ## mypy --strict
	$(VENV)/bin/mypy

chromium: ## Debian's Chromium for the browser tests (apt-get; sudo when not root)
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

wrk: ## Debian's wrk, the HTTP load generator of bench-intake (apt-get; sudo when not root)
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk; }

promtool: install ## promtool for the alert rules' unit tests: unpacked from Debian's prometheus package into .venv/bin (no daemon)
	@test -x $(VENV)/bin/promtool || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  tmp=$$(mktemp -d) && \
	  $$SUDO apt-get update -qq && \
	  (cd $$tmp && apt-get download -qq prometheus 2>/dev/null) && \
	  dpkg-deb --fsys-tarfile $$tmp/prometheus_*.deb | tar -x -C $$tmp ./usr/bin/promtool && \
	  install -m 0755 $$tmp/usr/bin/promtool $(VENV)/bin/promtool && \
	  rm -rf $$tmp; }

pytest: install chromium promtool ## pytest on one NATS server, two xdist workers: stacks on one, the rest on the other (T=path narrows)
	$(VENV)/bin/pytest -n 2 --dist loadgroup $(T)

pytest-cluster: install ## The tests marked `cluster` again, on a 3-node NATS cluster at R3
	TEST_NATS_CLUSTER=3 $(VENV)/bin/pytest -m cluster $(T)

client: ## TypeScript client: regenerate clients/typescript/src/schema.d.ts from docs/openapi.json
	cd clients/typescript && npm ci && npm run generate

client-test: install chromium ## TypeScript client: npm ci, type-check, its tests against the real stack (one in Chromium)
	cd clients/typescript && npm ci && npm test

chaos: install ## Chaos on the cluster: 1,000 readings, kills triggered by work in flight (CHAOS_READINGS)
	CHAOS_READINGS=$${CHAOS_READINGS:-1000} $(VENV)/bin/pytest tests/e2e/test_chaos.py

soak: install ## Soak: 30 minutes of moderate load, memory of every process over time
	$(PY) -m benchmarks.soak

validate: install promtool ## Deploy checks: k8s manifests, compose, Dockerfile, alerts, dashboard (offline)
	$(VENV)/bin/pytest tests/deploy

up: ## docker compose: build and start everything (needs Docker and a .env)
	docker compose up --build -d

bench: bench-chart bench-status bench-reader bench-intake bench-storage bench-priority ## All benchmarks -> benchmarks/results/*.json

bench-chart: install ## Chart: latency, charts/s at batch 1/16/256, peak RSS
	$(PY) -m benchmarks.chart_bench

bench-status: install ## Status: projection events/s, polling p99, SSE fan-out
	$(PY) -m benchmarks.status_bench

bench-reader: install ## Reader: the pipeline against a 2 s LLM (c=200, c=1000); R3 vs R1; 8 pieces vs 1
	$(PY) -m benchmarks.reader_bench
	$(PY) -m benchmarks.reader_bench --cluster
	$(PY) -m benchmarks.reader_bench --streaming
	$(PY) -m benchmarks.reader_bench --streamed-1000

bench-intake: install wrk ## Intake: accepted POSTs/s and p99 under wrk (50 connections), vs a bare handler; R3 beside R1
	$(PY) -m benchmarks.intake_bench
	$(PY) -m benchmarks.intake_bench --cluster

bench-storage: install ## Storage per reading (stream, PostgreSQL by table), answers in 1/8/100/1000 pieces
	$(PY) -m benchmarks.storage_bench

bench-priority: install ## Priorities: 1,000 normal readings behind a slow LLM, then 10 high; high p99 < normal p50
	$(PY) -m benchmarks.priority_bench

clean: ## Remove caches (keeps .venv and .data)
	rm -rf .pytest_cache .mypy_cache .ruff_cache build *.egg-info
