# Two commands do everything on a fresh machine (README): `make demo` and `make test`.
# Set-up (virtualenv, pinned Python deps, pinned jars) runs as their first step.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST := $(BIN)/python -m pytest
# Spark otherwise binds the driver's services to this machine's non-loopback address.
export SPARK_LOCAL_IP ?= 127.0.0.1

.PHONY: help setup demo test test-fast imports lint format stack-up stack-demo stack-status stack-down bench bench-large clean

help:
	@echo "make demo        generate logs -> ETL -> Iceberg -> print reports (embedded, no servers)"
	@echo "make test        the whole test suite (what CI runs)"
	@echo "make test-fast   skip slow end-to-end tests (-m 'not slow')"
	@echo "make stack-up | stack-demo | stack-status | stack-down   local replica of production"
	@echo "make bench       benchmark against the decompression bound and DuckDB (100k, 1M lines)"
	@echo "make bench-large the same at 1M and 10M lines"
	@echo "make lint        ruff + the import-layers contract (lint-imports)"

$(INSTALLED): requirements.txt pyproject.toml
	@command -v java >/dev/null 2>&1 || { echo "error: Java 17 is required and 'java' is not on PATH: install it (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"; exit 1; }
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

setup: $(INSTALLED)
	$(BIN)/lakehouse setup

demo: setup
	$(BIN)/lakehouse demo

test: setup imports
	$(BIN)/lakehouse setup --runtime local
	$(PYTEST)

test-fast: setup imports
	$(PYTEST) -m "not slow"

# The layers contract of pyproject.toml: the core imports no application, the CLI is on top.
imports: $(INSTALLED)
	$(BIN)/lint-imports --no-logo --no-cache

lint: imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

stack-up: setup
	$(BIN)/lakehouse setup --runtime local
	$(BIN)/lakehouse stack up

stack-demo: setup
	$(BIN)/lakehouse demo --runtime local --root var/stack-demo

stack-status: $(INSTALLED)
	$(BIN)/lakehouse stack status

stack-down: $(INSTALLED)
	$(BIN)/lakehouse stack down

bench: setup
	$(BIN)/python -m benchmarks.run --lines 100000 --lines 1000000 --history-days 1 --history-days 7 --history-days 30 --backlog-days 30

# 1M and 10M lines (~2.5 GB raw, ~10 min on 2 cores); raw results in var/bench-large.json.
bench-large: setup
	$(BIN)/python -m benchmarks.run --lines 1000000 --lines 10000000 --json var/bench-large.json

clean:
	rm -rf var/demo var/lakehouse
