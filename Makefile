# Cairn's two commands:  `make run`  (set up and run the embedded default with demo content)
#                        `make test` (set up and run the whole test suite)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The suite runs once on SQLite and once on this PostgreSQL database (when reachable).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres services setup setup-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test

run: setup
	$(BIN)/cairn serve --port $(PORT)

services:
	bash .ci/services

test: setup-test services
	$(BIN)/python -m pytest
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(TEST_POSTGRES_URL)'.replace('+psycopg',''), connect_timeout=3).close()" 2>/dev/null; then \
		echo "== the same suite on PostgreSQL =="; \
		CAIRN_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest; \
	else echo "PostgreSQL not reachable at $(TEST_POSTGRES_URL): skipped the PostgreSQL run"; exit 1; fi

bench: setup-test
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) instance .pytest_cache
