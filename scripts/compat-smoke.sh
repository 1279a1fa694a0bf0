#!/usr/bin/env bash
# The compatibility smoke test on every supported Airflow minor (or the ones given: 3.1 3.2 ...).
#
# For each constraints/airflow-X.Y.txt: a virtualenv holding exactly that lock (built once per lock
# content and cached outside the checkout, so CI's fresh clones reuse it), a wheel of this checkout
# installed beside it (--no-deps, into a per-run directory: the cached venv stays pristine and two
# checkouts can run at once), then tests/compat/smoke_airflow.py, which writes
# .artifacts/compat/airflow-X.Y.json. When every minor ran, the README's compatibility table must match
# those results (scripts/compat_table.py). Exits non-zero if any minor failed or the table is out of date.
# Cold (venvs built from a warm pip cache) it took about 6.5 min on 2 cores, warm about 5 min.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
PYTHON=${PYTHON:-python3}
CACHE=${MESSAGING_COMPAT_VENVS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/airflow-provider-messaging/compat-venvs}
OUT=.artifacts/compat

if [ "$#" -gt 0 ]; then
  minors=("$@")
else
  minors=()
  for lock in constraints/airflow-*.txt; do
    minor=${lock#constraints/airflow-}
    minors+=("${minor%.txt}")
  done
fi

venv_for() {  # the cached virtualenv of one lock, built once under an exclusive lock
  local lock=$1 minor=$2 hash dir
  hash=$(grep -v '^#' "$lock" | sha256sum | cut -c1-16)
  dir="$CACHE/airflow-$minor-$hash"
  mkdir -p "$CACHE"
  (
    flock 9
    if [ ! -f "$dir/.complete" ]; then
      echo "==> [$minor] building $dir from $lock" >&2
      rm -rf "$dir"
      find "$CACHE" -maxdepth 1 -name "airflow-$minor-*" -exec rm -rf {} +  # venvs of older locks
      "$PYTHON" -m venv "$dir"
      "$dir/bin/pip" install --quiet --upgrade pip >&2
      "$dir/bin/pip" install --quiet --no-deps -r "$lock" >&2
      "$dir/bin/pip" check >&2
      touch "$dir/.complete"
    fi
  ) 9>"$CACHE/.lock-$minor"
  echo "$dir"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"
rm -f "$OUT"/airflow-*.json
started=$SECONDS
failed=()
wheel=""
for minor in "${minors[@]}"; do
  lock="constraints/airflow-$minor.txt"
  [ -f "$lock" ] || { echo "no lock for Airflow $minor ($lock)" >&2; exit 2; }
  t0=$SECONDS
  venv=$(venv_for "$lock" "$minor")
  if [ -z "$wheel" ]; then  # one wheel of this checkout for every minor
    "$venv/bin/pip" wheel --quiet --no-deps --wheel-dir "$work/wheel" . >/dev/null
    rm -rf ./*.egg-info build
    wheel=$(ls "$work"/wheel/*.whl)
  fi
  site="$work/site-$minor"
  "$venv/bin/pip" install --quiet --no-deps --target "$site" "$wheel"
  echo "==> [$minor] smoke test on $(grep -m1 '^apache-airflow==' "$lock")"
  # run from an empty directory so the checkout's sources are not importable: the wheel is under test
  # (importlib import mode: the default "prepend" would put the checkout, a parent of the tests package, on sys.path)
  if (cd "$work" && PYTHONPATH="$site" MESSAGING_COMPAT_RESULTS="$REPO/$OUT/airflow-$minor.json" \
      "$venv/bin/python" -m pytest --noconftest -p no:cacheprovider -q --rootdir "$REPO" --import-mode=importlib \
      "$REPO/tests/compat/smoke_airflow.py"); then
    echo "==> [$minor] passed in $((SECONDS - t0)) s"
  else
    echo "==> [$minor] FAILED after $((SECONDS - t0)) s"
    failed+=("$minor")
  fi
done
echo "==> compatibility smoke: ${#minors[@]} Airflow minor(s) in $((SECONDS - started)) s"

if [ "$#" -eq 0 ]; then  # every supported minor ran: the README must say what they proved
  "$PYTHON" scripts/compat_table.py --check README.md "$OUT" || failed+=("README table")
fi
if [ "${#failed[@]}" -gt 0 ]; then
  echo "compatibility smoke FAILED: ${failed[*]}" >&2
  exit 1
fi
