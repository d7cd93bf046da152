# `make run` on a machine with only python3 (3.11+) and make: the venv is created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Reinstall only when the dependencies may have changed.
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv run test lint check bench

help:
	@echo "make run     migrate, seed and serve on http://127.0.0.1:$${PORT:-8000} (DATABASE_URL or SQLite)"
	@echo "make test    the whole suite, on SQLite and on PostgreSQL when it is reachable"
	@echo "make lint    ruff format --check, ruff check, mypy --strict"
	@echo "make check   lint + test"
	@echo "make bench   python bench/run.py, when present"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "conflictdb needs Python 3.11+; $(PYTHON) is $$($(PYTHON) -V 2>&1)" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) \
		|| { echo "could not create $(VENV); on Debian/Ubuntu: apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: venv
	$(BIN)/conflictdb migrate
	$(BIN)/conflictdb seed
	$(BIN)/conflictdb serve --port $${PORT:-8000}

# Two processes by default (the CI machine has 2 cores); each builds its own SQLite file and
# PostgreSQL database. --dist loadscope keeps a module's tests (and its module fixtures) together.
PYTEST_WORKERS ?= 2

test: venv
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadscope

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy app

check: lint test

bench: venv
	@if [ -f bench/run.py ]; then $(BIN)/python bench/run.py; else echo "bench/run.py not written yet"; fi
