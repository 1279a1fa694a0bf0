#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine: a virtualenv with the package and its
# dev tools, and (with --with-postgres) the Debian PostgreSQL server the tests start.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing the package and its dev dependencies (first run: about a minute)"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet -e ".[dev]"
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi
# An editable install leaves egg-info that makes Airflow see the distribution twice (airflow-notes §2).
rm -rf ./*.egg-info

if [ "${1:-}" = "--with-postgres" ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "==> installing the PostgreSQL server (Debian package) for the tests"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
fi
