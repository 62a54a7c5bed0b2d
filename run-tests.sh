#!/usr/bin/env bash
# Set up the environment (./install.sh) and run the checks: ruff lint, ruff format check, pytest.
#   ./run-tests.sh                   everything, slow end-to-end tests included (what CI runs)
#   ./run-tests.sh -m "not slow"     skip the slow end-to-end tests
#   ./run-tests.sh tests/preprocess  any pytest arguments
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0" && exit 0 ;; esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
./install.sh

echo "[tests] ruff check"
.venv/bin/ruff check .
echo "[tests] ruff format --check"
.venv/bin/ruff format --check .
echo "[tests] pytest"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
.venv/bin/python -m pytest "$@"
