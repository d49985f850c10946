# aurinko_auth: `make demo` sets up and serves the broker; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo serve test test-fast test-matrix lint format migrations-check bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The demo needs the project's dependencies only; the test toolchain (playwright,
# schemathesis, ruff, ...) is for `make test`.
$(VENV)/.demo-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[project]'
	touch $@

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[test,ews]'
	touch $@

install: $(VENV)/.installed

# A development .env: random SECRET_KEY and encryption key, DEBUG on. Never used in production.
.env: | $(VENV)/.demo-installed
	@echo "DEBUG=1" > $@
	@echo "SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" >> $@
	@echo "AURINKO_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" >> $@
	@echo "wrote $@ (development settings)"

DEMO_ENV := AURINKO_DEMO=1 AURINKO_PUBLIC_URL=http://$(HOST):$(PORT)

demo: $(VENV)/.demo-installed .env
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py aurinko_demo --host $(HOST) --port $(PORT)
	$(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

# The support matrix (noxfile.py): the suite without its end-to-end tests on each other
# supported Python/Django pair. pyenv's Pythons are found without changing its global setting.
PYENV_PYTHONS := $(shell command -v pyenv >/dev/null 2>&1 && pyenv versions --bare 2>/dev/null | grep -E '^3\.1[1-9]' | paste -sd: -)
test-matrix: install
	$(if $(PYENV_PYTHONS),PYENV_VERSION=$(PYENV_PYTHONS)) $(VENV)/bin/nox $(NOX_ARGS)

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff format .

migrations-check: install .env
	$(PY) manage.py makemigrations --check --dry-run

# Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/aurinko_bench)
# and wrk (installed from Debian's packages when missing and we are root).
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk; } || { echo "install wrk"; exit 1; }
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache db.sqlite3 .sandbox
