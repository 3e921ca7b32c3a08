# Yiwang: `make run` sets up and serves the demo city; `make test` sets up and runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := run
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup system-packages test-packages lint audit messages serve

system-packages:
	@.ci/system-packages

test-packages:
	@.ci/system-packages --test

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip setuptools  # the venv's own setuptools is old, and audited too
	@$(PY) -m pip install -q -e ".[test]"
	@touch $@

app/locale/zh_CN/LC_MESSAGES/messages.mo: app/locale/zh_CN/LC_MESSAGES/messages.po $(VENV)/.installed
	@$(VENV)/bin/pybabel -q compile -d app/locale -l zh_CN

# Everything the portal needs, idempotent: packages, venv, translations, keys, schema, demo data.
setup: system-packages $(VENV)/.installed app/locale/zh_CN/LC_MESSAGES/messages.mo
	@$(PY) -m app keys init
	@$(PY) -m app migrate
	@$(PY) -m app seed --demo

run: setup
	@echo "Yiwang: http://$(HOST):$(PORT)/"
	@$(PY) -m app serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed
	@$(VENV)/bin/ruff check app tests bench

# Known vulnerabilities in the installed dependencies (.ci/pip-audit says where the advisories come from). A finding
# with no fix would be accepted here as `--ignore-vuln ID`, with its reason; there is none. A version a requirement
# holds below the newest release is named and left unaudited (the index gives the newest release's advisories only);
# one released since the venv was set up, with nothing holding it back, is upgraded first, as a fresh install has it.
audit: $(VENV)/.installed
	@$(PY) .ci/pip-audit

# The suite runs twice: on a SQLite file and on a real PostgreSQL server.
test: test-packages $(VENV)/.installed app/locale/zh_CN/LC_MESSAGES/messages.mo lint audit
	@pg_url=$$(.ci/postgres) && \
	{ [[ $$pg_url == postgresql://* ]] || { echo "no PostgreSQL URL from .ci/postgres: '$$pg_url'"; exit 1; }; } && \
	echo "PostgreSQL: $$pg_url" && \
	echo "== tests on SQLite" && \
	YIWANG_TEST_ENGINE=sqlite $(PY) -m pytest && \
	echo "== tests on PostgreSQL" && \
	YIWANG_TEST_ENGINE=postgres YIWANG_TEST_PG_URL=$$pg_url $(PY) -m pytest

# Re-extract UI strings after changing them; then translate the new entries in the .po file.
messages: $(VENV)/.installed
	@$(VENV)/bin/pybabel -q extract -F app/locale/babel.cfg -k N_ -k _ --no-location -o app/locale/messages.pot .
	@$(VENV)/bin/pybabel -q update -i app/locale/messages.pot -d app/locale -l zh_CN --no-fuzzy-matching
