#!/usr/bin/env bash
# Set up, then lint, type-check and run the whole test suite (SQLite and a real PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-test-deps
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
exec .venv/bin/pytest "$@"
