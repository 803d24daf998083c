# The two commands of the README:
#   make demo   set up and run the demo on SQLite at http://127.0.0.1:8000
#   make test   set up and run the whole test suite (DATABASE_URL picks the database)
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: demo test setup setup-dev migrate run lint messages check-messages bench bench-phone bench-http audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

setup: $(VENV)/.runtime

setup-dev: $(VENV)/.dev

migrate: setup
	$(BIN)/python manage.py migrate --noinput

# The web server, one background worker and the scheduler together (Procfile, honcho);
# Ctrl-C stops all three.
demo: migrate
	$(BIN)/python manage.py seed_demo
	PATH="$(abspath $(BIN)):$$PATH" PYTHONUNBUFFERED=1 HOST=$(HOST) $(BIN)/honcho start

test: setup-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Needs GNU gettext (Debian package gettext). The compiled .mo files are committed.
messages: setup
	$(BIN)/python manage.py makemessages -l id --no-obsolete --ignore=.venv --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv

check-messages: setup-dev
	$(BIN)/python tests/check_messages.py

# Needs a network that reaches a vulnerability database (PyPI's JSON API or OSV).
audit: setup-dev
	$(BIN)/pip install --quiet pip-audit==2.10.1
	$(BIN)/pip-audit -r requirements.txt --strict

bench: setup-dev
	$(BIN)/python bench/pdf_report.py

# Needs Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
bench-phone: setup-dev
	$(BIN)/python bench/phone_budget.py

# The busy pages at scale under gunicorn and wrk (Debian package wrk), on the PostgreSQL
# database DATABASE_URL names; seeds it with seed_scale first when it holds no scale data.
bench-http: setup-dev
	$(BIN)/python bench/http.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
