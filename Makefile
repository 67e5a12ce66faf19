# HopLuc: `make run` to try it, `make test` to check it. Both need only Python 3.11+, make and git.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
export PORT HOST
export PATH := $(BIN):$(PATH)

.PHONY: help run processes test venv install install-dev messages migrate seed lint lock clean bench

help:
	@echo "make run    start HopLuc (web + Celery worker + beat) on http://$(HOST):$(PORT)/"
	@echo "make test   run the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)"
	@echo "            COVERAGE=1 also measures coverage and checks the per-file floors"
	@echo "            TEST_WORKERS=N runs N pytest-xdist processes (default 3)"
	@echo "make lint   ruff, makemigrations --check, lint-imports (import contracts), mypy"
	@echo "make bench  scale benchmarks on PostgreSQL (DATABASE_URL; BENCH_CASES cases, default 100000)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "HopLuc needs Python 3.11 or newer; run make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

venv: $(BIN)/python

# `make run` needs only the runtime packages; the test tools (Playwright is large) come with `make test`.
$(VENV)/.installed-runtime: $(BIN)/python requirements.in requirements.lock
	$(BIN)/python -m pip install --quiet -r requirements.in -c requirements.lock
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-runtime requirements-dev.in
	$(BIN)/python -m pip install --quiet -r requirements.in -r requirements-dev.in -c requirements.lock
	@touch $@

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

# Translations are compiled from the committed .po files; Babel does it without GNU gettext.
messages: install
	@$(BIN)/pybabel -q compile -d locale -D django

migrate: messages
	$(BIN)/python manage.py migrate --noinput

# seed_demo only adds what is missing, so running `make run` again keeps existing data.
seed: migrate
	$(BIN)/python manage.py seed_demo

# honcho starts each process in its own group and stops them all on Ctrl-C (SIGINT) or SIGTERM.
# `-e /dev/null`: a .env written for docker compose must not reach web and worker while
# migrate and seed_demo ran without it (other encryption keys, other database).
run: seed
	@echo
	@echo "  HopLuc is starting on  http://$(HOST):$(PORT)/login/   (Ctrl-C stops web, worker and beat)"
	@echo
	@exec $(MAKE) --no-print-directory processes

# honcho gives every process its own PORT (web $(PORT), worker $(PORT)+100, beat $(PORT)+200), so
# SITE_URL, the address links in emails open, is fixed here once to the web server's for all three.
PROCFILE ?= Procfile.dev
processes:
	@SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" exec $(BIN)/honcho -e /dev/null -f $(PROCFILE) start

# COVERAGE=1 measures coverage (pytest-cov) and checks the per-file floors (.ci/coverage_floors.json).
# TEST_WORKERS: pytest-xdist processes. Each collects the suite and runs on its own copy of one test
# database migrated once per run (tests/support/template_db.py). Three on two cores: some 40 tests mostly
# wait (browsers, real workers, the clock), spread over the first half of the run (tests/conftest.py), and
# while one process waits the other two keep the cores busy. --maxschedchunk=1 hands the tests out one at a
# time, in that order, to whichever process is free, so no process is left at the end with a queue of its own.
# Each process also rewrites the asserts of every test module it collects; with bytecode writing allowed
# pytest keeps the rewritten modules in tests/**/__pycache__ (ignored by git) and the next run's processes
# load them: collection fell from some 14 to 5 s of CPU a process. So the run writes bytecode even where
# the environment says not to (PYTHONDONTWRITEBYTECODE=1, as on this machine).
COVERAGE ?=
TEST_WORKERS ?= 3
test: install-dev messages
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS) --maxschedchunk=1 $(if $(COVERAGE),--cov --cov-report=json:coverage.json) $(PYTEST_ARGS)
	$(if $(COVERAGE),$(BIN)/python .ci/coverage_floor.py coverage.json)

# The checks that keep the layout (CI runs them before the suites): style, migrations in step with the
# models, DESIGN's import arrows (pyproject [tool.importlinter]) and types of the service and selector
# modules (pyproject [tool.mypy]). Every check runs, each timed; any failure fails the target.
LINT_CHECKS := "ruff check ." "python manage.py makemigrations --check --dry-run" "lint-imports" "mypy"
lint: install-dev
	@status=0; \
	for check in $(LINT_CHECKS); do \
		echo "=== $$check"; TIMEFORMAT="=== $$check: %R s"; \
		time $(BIN)/$$check || { echo "=== $$check: FAILED" >&2; status=1; }; \
	done; exit $$status

# Re-pin every dependency after editing requirements*.in.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in -r requirements-dev.in
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^pip==' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV)

# Scale benchmarks (issue 15): seeds DATABASE_URL (PostgreSQL) up to BENCH_CASES cases with seed_scale when it
# holds fewer, then prints medians, query counts and the load average beside the baselines (README), then the
# mixed HTTP load on gunicorn (benchmarks/scale_mixed.py: BENCH_SESSIONS sessions for BENCH_SECONDS seconds).
BENCH_CASES ?= 100000
BENCH_RUNS ?= 15
bench: install-dev messages
	@test -n "$$DATABASE_URL" || { echo "make bench needs DATABASE_URL (a PostgreSQL database it may fill)" >&2; exit 2; }
	BENCH_CASES=$(BENCH_CASES) BENCH_RUNS=$(BENCH_RUNS) $(BIN)/python benchmarks/scale_bench.py
