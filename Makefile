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

# Four processes by default on the CI machine's 2 cores: a test often waits (on PostgreSQL, on a
# server it started, on a killed process), and with --dist loadscope more processes keep the
# cores busy while a long module runs (the whole suite, CI=true: 1,108 s in two, 898 s in three,
# eleventh session; 1,070 s in three, 958 s in four, twelfth session, 2026-12-06, one run each).
# Each builds its own SQLite file and PostgreSQL database.
# --dist loadscope keeps a module's tests (and its module fixtures) together.
PYTEST_WORKERS ?= 4

test: venv
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadscope

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy app

check: lint test

bench: venv
	@if [ -f bench/run.py ]; then $(BIN)/python bench/run.py; else echo "bench/run.py not written yet"; fi
