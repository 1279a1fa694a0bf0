#!/usr/bin/env bash
# Set up, then run every example DAG end to end against the local sandbox (no credentials needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/airflow-messaging demo "$@"
