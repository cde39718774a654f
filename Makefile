# Everything is set up by these targets from the lock files: `make demo`, `make test`.
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

.DEFAULT_GOAL := help
.PHONY: help venv demo run test lint format lock clean

help:
	@echo "make demo    generate a synthetic LA and run the daily DAG on it, day by day"
	@echo "make run LANDING=path WAREHOUSE=path [DATE=YYYY-MM-DD]"
	@echo "             run the daily DAG once on your own FEED_SPEC extracts"
	@echo "make test    linters and the test suite"
	@echo "make lock    re-resolve requirements.lock from pyproject.toml"

# The environment is rebuilt whenever the lock file or pyproject.toml changes.
$(BIN)/.installed: requirements.lock pyproject.toml
	@echo "Creating $(VENV) from requirements.lock"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
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
	$(BIN)/python -m ingestion.cli demo

run: $(AIRFLOW_HOME)/.migrated
	@test -n "$(LANDING)" -a -n "$(WAREHOUSE)" || (echo "usage: make run LANDING=path WAREHOUSE=path [DATE=YYYY-MM-DD]"; exit 2)
	$(BIN)/python -m ingestion.cli run --landing "$(LANDING)" --warehouse "$(WAREHOUSE)" $(if $(DATE),--date $(DATE))

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project

test: lint .venv-compose/.installed
	$(BIN)/pytest

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --quiet -o requirements.lock

clean:
	rm -rf $(VENV) .venv-compose .airflow demo var
