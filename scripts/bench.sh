#!/usr/bin/env bash
# Set up, then run every benchmark and write bench/RESULTS.md (pass --quick for a short run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-test-deps
exec .venv/bin/python bench/run.py "$@"
