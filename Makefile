# Binjai API. `make run` serves the API with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export FLASK_APP := binjai_api
TRANSLATIONS := src/binjai_api/translations
# PostgreSQL for the second pass of `make test` (CI sets it; leave empty to test on SQLite only).
TEST_DATABASE_URL ?=

.DEFAULT_GOAL := help
.PHONY: help install install-dev run migrate seed test test-sqlite test-postgres lint openapi spectral \
        openapi-check translations docs-check bench bench-push bench-complaints bench-health bench-ops bench-audit \
        cluster bench-cluster clean

help:
	@echo "make run            serve the API on http://127.0.0.1:$(PORT) with the Binjai demo data"
	@echo "make test           install test tools, check the spec, run the suite (SQLite, then"
	@echo "                    PostgreSQL when TEST_DATABASE_URL is set)"
	@echo "make lint           ruff and mypy"
	@echo "make openapi        regenerate openapi/openapi.json from the code"
	@echo "make spectral       lint openapi/openapi.json with Spectral's OpenAPI rules (npm, pinned)"
	@echo "make docs-check     render /api/docs and /api/redoc in headless Chromium, offline"
	@echo "make bench          benchmarks under gunicorn (prints figures)"
	@echo "make bench-push     a broadcast to 100,000 devices through the SDK, to a local fake FCM"
	@echo "make bench-complaints  public feed and GeoJSON over 200,000 reports (PostgreSQL)"
	@echo "make bench-health   facility search and queue polling, 20,000 bookings (PostgreSQL)"
	@echo "make bench-ops      BCC overview and wall map over 200,000 complaints (PostgreSQL)"
	@echo "make bench-audit    16 concurrent audited writers, sealed off the request path (PostgreSQL)"
	@echo "make cluster        2 web instances, 2 outbox workers and a fake FCM on local PostgreSQL"
	@echo "                    and Redis, as in production; Ctrl-C stops them all"
	@echo "make bench-cluster  load and faults on that cluster, checked against the database"
	@echo "                    (restarts the local PostgreSQL and Redis: run it alone)"
	@echo "make translations   extract, update and compile the gettext catalogs"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

instance:
	mkdir -p instance

migrate: install | instance
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

run: seed
	@echo ""
	@echo "Binjai API on http://127.0.0.1:$(PORT)"
	@echo "  docs:  http://127.0.0.1:$(PORT)/api/docs  (ReDoc: /api/redoc)"
	@echo "  spec:  http://127.0.0.1:$(PORT)/api/v1/openapi.json"
	@echo "  push notifications: the outbox worker runs alongside (logs pushes unless"
	@echo "  FIREBASE_CREDENTIALS is set)"
	@echo "Ctrl-C stops both."
	@echo ""
	@export PORT=$(PORT); \
	$(BIN)/flask outbox-worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) 'binjai_api:create_app()'

test: install-dev openapi-check test-sqlite test-postgres

test-sqlite: install-dev
	env -u TEST_DATABASE_URL $(BIN)/pytest

test-postgres: install-dev
	@if [ -n "$(TEST_DATABASE_URL)" ]; then \
		echo "== PostgreSQL pass: $(TEST_DATABASE_URL)"; \
		TEST_DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest; \
	else \
		echo "== PostgreSQL pass skipped: TEST_DATABASE_URL is not set (CI sets it)"; \
	fi

lint: install-dev
	$(BIN)/ruff check src tests bench migrations/env.py
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

openapi: install
	mkdir -p openapi
	BINJAI_ENV=development $(BIN)/flask openapi-write openapi/openapi.json

SPECTRAL := tools/spectral/node_modules/.bin/spectral

$(SPECTRAL): tools/spectral/package-lock.json
	cd tools/spectral && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

spectral: $(SPECTRAL)
	$(SPECTRAL) lint --ruleset tools/spectral/.spectral.yaml --fail-severity hint openapi/openapi.json

openapi-check: install
	@BINJAI_ENV=development $(BIN)/flask openapi-write - > $(VENV)/openapi.generated.json
	@diff -u openapi/openapi.json $(VENV)/openapi.generated.json > /dev/null || { \
		echo "openapi/openapi.json is out of date with the code; run 'make openapi' and commit."; \
		diff -u openapi/openapi.json $(VENV)/openapi.generated.json | head -40; exit 1; }
	@echo "openapi/openapi.json matches the code"

translations: install-dev
	$(BIN)/pybabel extract --no-location --sort-output -k lazy_gettext -F babel.cfg -o $(TRANSLATIONS)/messages.pot src
	$(BIN)/pybabel update --no-fuzzy-matching -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)
	$(BIN)/pybabel compile -d $(TRANSLATIONS)

docs-check: install-dev
	$(BIN)/python bench/docs_render_check.py

bench: install-dev
	$(BIN)/python bench/http_baseline.py

bench-push: install-dev
	$(BIN)/python bench/push_broadcast.py

bench-complaints: install-dev
	$(BIN)/python bench/complaints_feed.py

bench-health: install-dev
	$(BIN)/python bench/health_queue.py

bench-ops: install-dev
	$(BIN)/python bench/ops_dashboard.py

bench-audit: install-dev
	$(BIN)/python bench/audit_writers.py

cluster: install-dev
	$(BIN)/python bench/cluster.py

bench-cluster: install-dev
	$(BIN)/python bench/cluster_load.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
