# Two commands do all the setup on a fresh machine: `make demo` and `make test`.
# They install uv (from PyPI) when missing and sync the locked virtual environment (.venv).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(HOME)/.local/bin/uv
endif
export UV_COMPILE_BYTECODE := 1

.PHONY: setup demo test lint bench

$(UV):
	python3 -m pip install --user --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --all-extras --frozen
	touch $@

setup: .venv/.synced

demo: setup  ## analyze the built-in demo dataset: report, summary.json, SQLite store, MLflow run
	$(UV) run --frozen reviewops demo

test: setup  ## the whole test suite (starts the servers it needs on 127.0.0.1)
	$(UV) run --frozen pytest

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen mypy
	$(UV) run --frozen mypy --strict dags/review_analysis.py dashboards/build.py

bench: setup
	$(UV) run --frozen python bench/bench_pipeline.py
