# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test lint format migrations-check messages clean bench bench-quick

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Virtualenv, install, migrate (SQLite unless DATABASE_URL says otherwise), demo data when the
# database is empty, then serve on http://127.0.0.1:8000 with the background-job worker beside
# the web server; Ctrl-C stops both.
run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py refresh_report_tables
	$(PY) manage.py db_worker --no-reload --no-startup-delay & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST)

# The whole suite (browser tests included when Chromium is installed).
test: $(VENV)/.dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: $(VENV)/.runtime
	$(PY) manage.py makemigrations --check --dry-run

# Refresh the English catalogues (needs GNU gettext; Chinese is the source language and needs
# none); the compiled .mo files are committed so that a fresh machine needs no gettext.
messages: $(VENV)/.runtime
	$(PY) manage.py makemessages --locale en --ignore '.venv/*' --ignore 'staticfiles/*'
	$(PY) manage.py makemessages --domain djangojs --locale en --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'static/vendor/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

# Every benchmark script in bench/ (benchdb.py is their shared set-up, not a benchmark), each on
# its own fresh PostgreSQL database named by DATABASE_URL (which must end in _bench).
# `make bench-quick` runs each on small data (`--quick`, well under a minute each), as CI does,
# so that a broken benchmark is caught when it breaks; the figures come from `make bench`.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sharedloan_bench
BENCH_RUN = for f in bench/*.py; do \
	  case $$f in bench/benchdb.py) continue ;; esac; \
	  echo "==> $$f $(1)"; \
	  DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} $(PY) $$f $(1) || exit 1; \
	done
bench: $(VENV)/.runtime
	$(call BENCH_RUN)
bench-quick: $(VENV)/.runtime
	$(call BENCH_RUN,--quick)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
