#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine: a virtualenv with the package and its
# dev tools, and (with --with-test-deps) what the tests need from Debian: the PostgreSQL server they
# start and Chromium + ChromeDriver for the browser tests of the UI (driven by Playwright, which is
# pointed at /usr/bin/chromium and never downloads a browser).
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

if [ "${1:-}" = "--with-test-deps" ]; then
  missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> installing the test dependencies (Debian packages): ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
