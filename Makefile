# One entry point for people and CI. Each target bootstraps what it needs:
# a local virtualenv with uv (if uv is not on PATH), then `uv sync` from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
PYTEST_WORKERS ?= auto

.PHONY: demo test test-embedded lint typecheck check bench-rating sync

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv

sync: $(UV)
	$(UV) sync --frozen --quiet

PORT ?= 8000
DEMO_ARGS ?=
demo: sync  ## Run the main job: database, demo data, web + worker; PORT=8000, DEMO_ARGS="--data-dir DIR --host 0.0.0.0"
	$(UV) run --frozen tulpar demo --port $(PORT) $(DEMO_ARGS)

test: sync system-deps browser-deps  ## The whole test suite (embedded PostgreSQL unless DATABASE_URL is set)
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) -q $(PYTEST_ARGS)

test-embedded: sync  ## Migrations + smoke tests on the embedded PostgreSQL (DATABASE_URL unset)
	env -u DATABASE_URL $(UV) run --frozen pytest -q -m embedded_smoke $(PYTEST_ARGS)

lint: sync
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench
	$(UV) run --frozen lint-imports

typecheck: sync
	$(UV) run --frozen mypy

check: lint typecheck test

bench-rating: sync  ## Rating engine vs a raw-SQL baseline; full size: BENCH_ARGS="--cards 20000 --records 1000000"
	$(UV) run --frozen python -m bench.rating $(BENCH_ARGS)

.PHONY: bench-renewal
bench-renewal: sync  ## Renewals via API + workers + carrier simulator vs the same rows by plain SQL
	$(UV) run --frozen python -m bench.renewal $(BENCH_ARGS)

.PHONY: bench-balance
bench-balance: sync  ## Balance reads at 10/50/200 connections vs a no-database endpoint; BENCH_ARGS="--rounds 3"
	$(UV) run --frozen python -m bench.balance $(BENCH_ARGS)

.PHONY: bench-ussd bench-reminders bench-pages
bench-ussd: sync  ## *100# at 50 concurrent sessions vs the bare balance query in SQL
	$(UV) run --frozen python -m bench.ussd $(BENCH_ARGS)

bench-reminders: sync  ## One reminder scheduling pass over 1,000,000 cards vs the bare indexed query
	$(UV) run --frozen python -m bench.reminders $(BENCH_ARGS)

bench-pages: sync  ## Traveller pages' server time under 20 clients vs the JSON balance endpoint
	$(UV) run --frozen python -m bench.pages $(BENCH_ARGS)

.PHONY: bench-reports
bench-reports: sync  ## Back-office reports over a year of 100,000 cards vs each bare statement; BENCH_ARGS="--runs 5"
	$(UV) run --frozen python -m bench.reports $(BENCH_ARGS)

.PHONY: system-deps browser-deps
system-deps:  ## Chromium, poppler, npm and Noto fonts from Debian's packages when missing
	bash .ci/system-deps

browser-deps: node_modules/.package-lock.json  ## axe-core for the browser tests (npm ci from package-lock.json); Chromium itself is Debian's (.ci/run installs it)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
