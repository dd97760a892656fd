# moneytrail: `make demo` and `make test` are all a newcomer needs; both run `make setup` first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system demo test test-fast lint format bench docs clean

setup: system $(STAMP)

# The workbench's front-end libraries (Cytoscape.js, ECharts, Swagger UI) from the npm registry, pinned by
# the committed package-lock.json and served from node_modules (no CDN).
FRONTEND := src/moneytrail/investigate/frontend
setup: $(FRONTEND)/node_modules/.installed
$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for the workbench's front-end libraries."; exit 2; }
	@cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# System packages the project needs, installed only where missing (Debian/Ubuntu; needs root or sudo).
system:
	@bash scripts/install-system.sh

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)."; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip uv
	@$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev]"
	@# byte-compiled once here, so no command pays for compiling its imports (where the
	@# environment forbids Python to write bytecode, it would pay on every run)
	@$(BIN)/python -m compileall -q -j 0 src
	@touch $(STAMP)

demo: setup
	@$(BIN)/moneytrail demo $(DEMO_ARGS)

test: setup
	@$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: setup
	@$(BIN)/python -m pytest -n 2 -m "not spark and not browser and not postgres and not slow" $(PYTEST_ARGS)

lint: setup
	@$(BIN)/ruff check src tests bench
	@$(BIN)/ruff format --check src tests bench

format: setup
	@$(BIN)/ruff format src tests bench
	@$(BIN)/ruff check --fix src tests bench

docs: setup
	@$(BIN)/python -m moneytrail.schema.docs > docs/data-model.md

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) workspace demo-world test-results .pytest_cache
