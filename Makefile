# HopLuc: `make run` to try it, `make test` to check it. Both need only Python 3.11+, make and git.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
PORT ?= 8000
HOST ?= 127.0.0.1
export PORT HOST
export PATH := $(BIN):$(PATH)

.PHONY: run test install messages migrate seed lock lint clean help

help:
	@echo "make run    start HopLuc (web + Celery worker + beat) on http://$(HOST):$(PORT)/"
	@echo "make test   run the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)"

$(VENV)/.installed: requirements.in requirements-dev.in requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.in -r requirements-dev.in -c requirements.lock
	@touch $@

install: $(VENV)/.installed

# Translations are compiled from the committed .po files; Babel does it without GNU gettext.
messages: install
	@$(BIN)/pybabel -q compile -d locale -D django

migrate: messages
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo
	@echo "  HopLuc is starting on  http://$(HOST):$(PORT)/   (Ctrl-C stops web, worker and beat)"
	@echo
	$(BIN)/honcho -f Procfile.dev start

test: messages
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

# Re-pin every dependency after editing requirements*.in.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in -r requirements-dev.in
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^pip==' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) var
