# Quick start: `make run` (demo on http://127.0.0.1:8080) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := APP_MODE=$${APP_MODE:-demo} $(VENV)/bin/flask --app run
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: run test test-pg test-deploy test-vm test-reliability install install-test translations setup demo-db browser-deps nginx-deps clean bench bench-small

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test: requirements-test.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

install: $(VENV)/.runtime translations
install-test: $(VENV)/.test translations

# Compiled catalogues (.mo) are build output: made from the .po files on every install.
translations: $(VENV)/.runtime
	$(VENV)/bin/pybabel compile -d app/translations -f >/dev/null

setup: install
	$(FLASK) setup --demo

# The web server and the scheduler (overdue sweep, reminders, outbox delivery) together; Ctrl-C stops both.
run: setup
	@echo "Layanan Pengaduan Online: http://$(HOST):$(PORT)/  (staf: http://$(HOST):$(PORT)/login/)"
	@APP_MODE=$${APP_MODE:-demo} VENV=$(VENV) HOST=$(HOST) PORT=$(PORT) scripts/run-all.sh

test: install-test browser-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# The same suite against PostgreSQL (a fresh database is created on this server and dropped after).
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
test-pg: install-test browser-deps
	TEST_DATABASE_URL=$(TEST_PG_URL) $(PY) -m pytest $(PYTEST_ARGS)

# Load, database outage and killed worker (issue 14): gunicorn on a PostgreSQL cluster of its own, 2-3 minutes;
# prints its figures. Needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin).
test-reliability: install-test
	$(PY) -m pytest -q -p no:cacheprovider -s -m reliability tests/reliability $(PYTEST_ARGS)

# Debian's Chromium for the browser tests (no browser download: Playwright drives /usr/bin/chromium).
# Nothing to do when it is there; otherwise apt-get, through sudo unless make runs as root.
browser-deps:
	@test -x /usr/bin/chromium || { \
	  echo "make: installing Debian's chromium for the browser tests"; \
	  as_root=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$as_root apt-get update -qq && \
	  $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's nginx for `make test-deploy` (nothing to do when it is there; apt-get through sudo unless root).
nginx-deps:
	@test -x /usr/sbin/nginx || { \
	  echo "make: installing Debian's nginx for the deployment test"; \
	  as_root=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$as_root apt-get update -qq && \
	  $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx openssl >/dev/null; }
	@test -x /usr/sbin/nginx || { echo "make: nginx could not be installed; the deployment test cannot run" >&2; exit 1; }

# The production stack end to end (tests/deploy): nginx with the project's site and a self-signed certificate
# on high ports, two gunicorn nodes, Redis (127.0.0.1:6379, db $(DEPLOY_REDIS_DB)), two schedulers; then
# install.sh twice in a clean folder and the upgrade from the first schema. SQLite, or PostgreSQL with
# TEST_DATABASE_URL. Fails (never skips) when nginx or Redis cannot run.
DEPLOY_REDIS_DB ?= 13
test-deploy: install-test nginx-deps
	DEPLOY_REDIS_DB=$(DEPLOY_REDIS_DB) $(PY) -m pytest -m deploy -p no:cacheprovider tests/deploy $(PYTEST_ARGS)

# The real install on a booted Debian 12 (systemd-nspawn container, deploy/test-vm.sh): root, 20-30 minutes,
# a Debian mirror and PyPI. By hand before a release; not in .ci/run.
test-vm:
	bash deploy/test-vm.sh

clean:
	rm -rf $(VENV) instance/pengaduan.db

# Re-extract marked strings, merge FAB's, build the id catalogue, compile (then translate new entries in en).
extract-messages: $(VENV)/.runtime
	$(PY) scripts/i18n.py all

# Benchmarks (bench/README.md). bench-small: SQLite, 20,000 complaints, in process, < 5 minutes; fails only
# when a scenario makes more SQL statements than bench/query_counts.json records (never on timings).
bench-small: install-test
	$(PY) -m bench.small $(BENCH_ARGS)

# bench: PostgreSQL (a scratch database on BENCH_DATABASE_URL's server), gunicorn and the ceiling app,
# 16 clients; writes bench/results/<date>.json and prints the Markdown table. BENCH_N complaints.
BENCH_N ?= 1000000
bench: install-test
	$(PY) -m bench.run --n $(BENCH_N) $(BENCH_ARGS)
