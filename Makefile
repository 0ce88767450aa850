# Confide: `make run` serves the demo; `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
CHROMIUM ?= /usr/bin/chromium
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck pytest install dev browser coturn demo-codes clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)
dev: $(DEV_STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

demo-codes: $(STAMP)
	@$(BIN)/python manage.py demo_codes

# Debian's Chromium drives the browser tests; never a downloaded browser build.
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    (apt-get install -y -qq chromium fonts-dejavu-core >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null)); \
	  else \
	    echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium'"; \
	    exit 1; \
	  fi; \
	fi

# Debian's coturn: the call tests start their own TURN server on loopback (tests/live/turn.py).
coturn:
	@if ! command -v turnserver >/dev/null; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's coturn for the TURN relay tests"; \
	    (apt-get install -y -qq coturn >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq coturn >/dev/null)); \
	  else \
	    echo "The TURN relay tests need Debian's coturn: run 'sudo apt-get install coturn'"; \
	    exit 1; \
	  fi; \
	fi

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy confide tests $(wildcard bench/*.py)

pytest: $(DEV_STAMP) browser coturn
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
