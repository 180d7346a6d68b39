# Two commands do everything on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := src/aftersales/web/static/vendor/htmx.min.js

.PHONY: run test lint types contracts test-sqlite test-postgres assets install demo clean worker serve docs context-map

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv && $(PY) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(ASSETS): package.json package-lock.json scripts/build-assets.mjs
	npm ci --no-audit --no-fund
	npm run build

assets: $(ASSETS)

## make run: install, build assets, migrate, seed the demo if new, serve on http://127.0.0.1:8000 with a worker
run: install assets
	$(BIN)/aftersales migrate
	$(BIN)/aftersales demo --if-empty
	@BIN=$(BIN) bash scripts/run.sh

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

types: install
	$(BIN)/mypy

## make contracts: import-linter's contracts (pyproject.toml), among them the context map's layers and no cycles
contracts: install
	$(BIN)/lint-imports

## make docs: redraw docs/context-map.svg from the imports (pure Python; a unit test fails when it is stale)
docs: context-map

context-map:
	$(PY) scripts/context_map.py

test-sqlite: install assets
	AFTERSALES_TEST_DB=sqlite $(BIN)/pytest -p no:cacheprovider

test-postgres: install assets
	AFTERSALES_TEST_DB=postgresql AFTERSALES_TEST_PG_URL=$$(bash scripts/ensure-postgres.sh) $(BIN)/pytest -p no:cacheprovider

## make test: lint, types, import contracts, then the whole suite on SQLite and on PostgreSQL
test: install assets
	bash scripts/ensure-browser.sh
	$(MAKE) lint types contracts
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

.PHONY: bench soak

## make bench: every benchmark (intake on SQLite and PostgreSQL against the bare limit, SLA sweep,
## assistant, pages with 1M orders); rewrites docs/benchmarks.md. BENCH_ARGS=--quick for a short run.
bench: install assets
	bash scripts/ensure-wrk.sh
	AFTERSALES_BENCH_PG_URL=$$(bash scripts/ensure-postgres.sh) $(BIN)/python bench/run.py $(BENCH_ARGS)

## make soak: ten minutes of a realistic mix at half the measured capacity against the demo shop
## (zero errors expected); records memory growth in docs/benchmarks.md. SOAK_ARGS="--minutes 2" for less.
soak: install assets
	bash scripts/ensure-wrk.sh
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

.PHONY: journeys

## make journeys: every role's journey in Chromium (pytest -m journey), keeping their screenshots in
## docs/images/journeys/ and rewriting docs/journeys.md from them
journeys: install assets
	bash scripts/ensure-browser.sh
	rm -rf docs/images/journeys
	AFTERSALES_JOURNEY_SHOTS=docs/images/journeys $(BIN)/pytest -p no:cacheprovider -m journey tests/e2e --durations=0
	$(BIN)/python scripts/journeys_doc.py docs/images/journeys docs/journeys.md
