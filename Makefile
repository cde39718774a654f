# Everything is set up by these targets from the lock files: `make demo`, `make test`.
# requirements.lock is what the product needs to run (the Docker image installs it);
# requirements-dev.lock adds the test, lint and bench tools (the local .venv has both).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM := 4
# SQLite: wait up to 60 s for a lock instead of failing at once when several Airflow
# processes write (make airflow runs four of them).
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(AIRFLOW_HOME)/airflow.db?timeout=60
# Task logs hold what the steps log (school URNs, reasons): not for every local user
# (Airflow's defaults are 0o664 and 0o775; docs/security.md).
export AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS ?= 0o640
export AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS ?= 0o750
AIRFLOW_PORT ?= 8080
# The one-slot pool of every task that opens the warehouse (pipeline/pool.py).
WAREHOUSE_POOL := attendance_warehouse

.DEFAULT_GOAL := help
.PHONY: help venv demo run airflow airflow-pool backfill rerun test lint format lock clean chromium axe bench

help:
	@echo "make demo    generate a synthetic LA and run the daily DAG on it, day by day"
	@echo "make run LANDING=path WAREHOUSE=path [DATE=YYYY-MM-DD]"
	@echo "             run the daily DAG once on your own register extracts"
	@echo "make airflow [LANDING=path WAREHOUSE=path] [AIRFLOW_PORT=8080]"
	@echo "             Airflow (scheduler, UI) on http://127.0.0.1:8080 with the project's DAGs"
	@echo "make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD [LANDING=path WAREHOUSE=path]"
	@echo "             run attendance_daily for each school day FROM..TO (needs make airflow)"
	@echo "make rerun DAY=YYYY-MM-DD"
	@echo "             run that register day again (needs make airflow)"
	@echo "make test    linters and the test suite"
	@echo "make bench [BENCH_ARGS=...]"
	@echo "             workloads and peers at full scale: bench/results.json, bench/RESULTS.md"
	@echo "make lock    re-resolve requirements.lock and requirements-dev.lock from pyproject.toml"

# The environment is rebuilt whenever the lock file or pyproject.toml changes. Bytecode is
# compiled at install (pip does, uv does not unless told): with PYTHONDONTWRITEBYTECODE set, as
# on some servers and CI machines, every Airflow task, dbt run and audit would otherwise compile
# Airflow's, dbt's and Great Expectations' sources again (about 10 s a morning).
$(BIN)/.installed: requirements-dev.lock pyproject.toml
	@echo "Creating $(VENV) from requirements-dev.lock"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

venv: $(BIN)/.installed

# Airflow's metadata database (SQLite) for demo and manual runs.
$(AIRFLOW_HOME)/.migrated: $(BIN)/.installed
	mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	touch $@

include mk/compose.mk

demo: $(AIRFLOW_HOME)/.migrated
	$(BIN)/attendance demo

run: $(AIRFLOW_HOME)/.migrated
	@test -n "$(LANDING)" -a -n "$(WAREHOUSE)" || (echo "usage: make run LANDING=path WAREHOUSE=path [DATE=YYYY-MM-DD]"; exit 2)
	$(BIN)/attendance run --landing "$(LANDING)" --warehouse "$(WAREHOUSE)" $(if $(DATE),--date $(DATE))

# The pool is created (or set back to one slot) every time; `airflow pools set` is idempotent.
airflow-pool: $(AIRFLOW_HOME)/.migrated
	$(BIN)/airflow pools set $(WAREHOUSE_POOL) 1 "One task at a time opens the attendance warehouse" > /dev/null

# Airflow's own processes for watching runs in the UI: scheduler, DAG processor, triggerer
# and API server, on 127.0.0.1 only, four task slots for two cores (docs/orchestration.md).
# `airflow standalone` starts them as `airflow ...` from the PATH, hence $(BIN) on it.
airflow: airflow-pool
	@mkdir -p "$(or $(LANDING),var/landing)" "$(or $(WAREHOUSE),var/warehouse)"
	@echo "Airflow UI: http://127.0.0.1:$(AIRFLOW_PORT), user admin, password in"
	@echo "  $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated (written on first start)"
	PATH="$(CURDIR)/$(BIN):$$PATH" \
	AIRFLOW__API__HOST=127.0.0.1 \
	AIRFLOW__API__PORT=$(AIRFLOW_PORT) \
	AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$(AIRFLOW_PORT)/execution/ \
	ATTENDANCE_LANDING="$(abspath $(or $(LANDING),var/landing))" \
	ATTENDANCE_WAREHOUSE="$(abspath $(or $(WAREHOUSE),var/warehouse))" \
	$(BIN)/airflow standalone

# Backfill runs are executed by the scheduler of `make airflow`, one at a time, and only
# while the DAG is unpaused; TO is inclusive (its 18:00 run is in the range).
backfill: airflow-pool
	@test -n "$(FROM)" -a -n "$(TO)" || (echo "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD [LANDING=path WAREHOUSE=path]"; exit 2)
	$(BIN)/airflow dags unpause attendance_daily > /dev/null
	$(BIN)/airflow backfill create --dag-id attendance_daily \
		--from-date $(FROM) --to-date $(TO)T23:59:59 --max-active-runs 1 \
		--dag-run-conf '{"landing": "$(abspath $(or $(LANDING),var/landing))", "warehouse": "$(abspath $(or $(WAREHOUSE),var/warehouse))"}'

# Clears the day's run (as the UI's "Clear" does): the scheduler runs it again.
rerun: $(AIRFLOW_HOME)/.migrated
	@test -n "$(DAY)" || (echo "usage: make rerun DAY=YYYY-MM-DD"; exit 2)
	$(BIN)/airflow tasks clear attendance_daily --start-date $(DAY) --end-date $(DAY)T23:59:59 --yes

# Not part of `make test` (tests/bench runs the same code at a tiny size). Working data in
# bench/work/ (ignored by git); see docs/performance.md. E.g. BENCH_ARGS="--w1-days 5".
bench: $(AIRFLOW_HOME)/.migrated
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project
	$(BIN)/lint-imports --no-cache

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project

# Headless Chromium renders the HTML reports in the tests (Debian's package; we run as root
# in CI, elsewhere sudo may be needed).
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || (apt-get update -qq && apt-get install -y -qq chromium > /dev/null) \
		|| (echo "install Debian's chromium package (apt-get install chromium)"; exit 1)

# axe-core checks the accessibility of the HTML reports in that Chromium (the tests inject
# it into a copy of each page). Pinned in tools/axe/package-lock.json; npm ci installs
# exactly that, from the npm registry (Debian's npm where the machine has none).
AXE := tools/axe/node_modules/axe-core/axe.min.js
$(AXE): tools/axe/package.json tools/axe/package-lock.json
	@command -v npm > /dev/null || (apt-get update -qq && apt-get install -y -qq npm > /dev/null) \
		|| (echo "install Node.js and npm (apt-get install npm)"; exit 1)
	npm ci --prefix tools/axe --no-audit --no-fund --loglevel=error
	touch $@

axe: $(AXE)

test: lint .venv-compose/.installed chromium axe
	$(BIN)/pytest

lock:
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --quiet -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --quiet -o requirements-dev.lock

clean:
	rm -rf $(VENV) .venv-compose .airflow demo var tools/axe/node_modules
