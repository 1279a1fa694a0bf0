#!/usr/bin/env bash
# Set up, then lint, type-check and run the whole test suite (SQLite and a real PostgreSQL) on the newest
# Airflow, then the compatibility smoke test on every supported Airflow minor (scripts/compat-smoke.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-test-deps
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
.venv/bin/pytest "$@"
if [ "$#" -eq 0 ]; then  # the full run (CI): then the older Airflow minors, each in its own pinned venv
  echo "==> Airflow compatibility smoke (constraints/airflow-*.txt)"
  scripts/compat-smoke.sh
fi
