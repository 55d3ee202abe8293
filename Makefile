# ketaclinic: `make run` serves the demo clinic, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
PG_URL ?= postgres://postgres@127.0.0.1:5432/ketaclinic
PYTEST_WORKERS ?= 2
# Browser tests share the database with the live server's threads. An in-memory SQLite
# database there locks whole tables ("database table is locked") whenever a page polls
# while the test writes; a file in WAL mode lets readers and the writer overlap, as in use.
BROWSER_PYTEST := SQLITE_TEST_PATH=$(CURDIR)/var/browser-tests.sqlite3 $(PYTEST)

.PHONY: run test ci lint format migrations-check test-sqlite test-postgres test-browser \
        browser-deps postgres-db bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "ketaclinic needs Python 3.11+"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo
	@echo "ketaclinic is serving the demo clinic on http://127.0.0.1:8000 (Ctrl-C stops it)"
# The job runner (reminders, checkpoints, pruning) runs beside the server, its output (the
# demo's console emails) in var/jobs.log; stopping the server, by Ctrl-C or otherwise, stops it.
	@$(PY) manage.py run_jobs >var/jobs.log 2>&1 & runner=$$!; \
	  trap 'kill $$runner 2>/dev/null; wait $$runner' EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:8000

test: $(VENV)/.installed browser-deps
	$(PYTEST) -n $(PYTEST_WORKERS) -m "not browser"
	$(BROWSER_PYTEST) -m browser

ci: lint migrations-check test-sqlite test-postgres test-browser

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: $(VENV)/.installed
	$(PY) manage.py makemigrations --check --dry-run

test-sqlite: $(VENV)/.installed
	$(PYTEST) -n $(PYTEST_WORKERS) -m "not browser"

test-postgres: $(VENV)/.installed postgres-db
	DATABASE_URL=$(PG_URL) $(PYTEST) -n $(PYTEST_WORKERS) -m "not browser"

test-browser: $(VENV)/.installed browser-deps
	$(BROWSER_PYTEST) -m browser

# Debian's Chromium drives the browser tests; never a downloaded browser build.
browser-deps:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

postgres-db:
	@psql "$(PG_URL:/ketaclinic=/postgres)" -tAc "select 1 from pg_database where datname='ketaclinic'" | grep -q 1 \
	  || psql "$(PG_URL:/ketaclinic=/postgres)" -c "create database ketaclinic"

bench: $(VENV)/.installed
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) var staticfiles .hypothesis
