#!/usr/bin/env bash
# Create the project's virtual environment (.venv) and install the toolkit with its dev extras.
#   ./install.sh            install, or do nothing when setup.py has not changed since last time
#   ./install.sh --force    reinstall
# Set PYTHON to choose the interpreter (default python3; 3.10 to 3.13).
# The versions come from constraints/local.txt, a known-good set (refresh it with
# constraints/refresh.sh); GYM_CONSTRAINTS=other.txt picks another file, GYM_CONSTRAINTS=none
# lets pip choose the newest releases setup.py allows.
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0" && exit 0 ;; esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$root/.venv"
stamp="$venv/.installed-setup-sha"
python="${PYTHON:-python3}"
constraints="${GYM_CONSTRAINTS:-$root/constraints/local.txt}"
constraint_args=()
if [ "$constraints" != none ]; then
  if [ ! -f "$constraints" ]; then
    echo "error: GYM_CONSTRAINTS=$constraints: no such file (or set GYM_CONSTRAINTS=none)" >&2
    exit 3
  fi
  constraint_args=(-c "$constraints")
fi

if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: $python not found; install Python 3.10+ or set PYTHON=/path/to/python3" >&2
  exit 3
fi
if ! "$python" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))'; then
  echo "error: $python is $("$python" --version 2>&1); the toolkit needs Python 3.10 to 3.13" >&2
  echo "  (TensorFlow and Apache Beam publish no wheels for newer ones); set PYTHON=python3.12" >&2
  exit 3
fi

wanted="$(cat "$root/setup.py" "$root/pyproject.toml" "${constraint_args[@]:1}" | sha256sum | cut -d' ' -f1)"
if [ "${1:-}" != "--force" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  echo "[install] .venv is up to date"
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "[install] creating $venv"
  "$python" -m venv "$venv"
fi
echo "[install] installing sciencebeam-gym and its dependencies (first time: a few minutes)${constraint_args[1]:+ from ${constraint_args[1]#"$root"/}}"
start=$(date +%s)
"$venv/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
"$venv/bin/python" -m pip install --quiet "${constraint_args[@]}" -e "$root[dev]" 2>&1 | grep -v '^WARNING: Location' || true
"$venv/bin/python" -c 'import sciencebeam_gym, tensorflow, apache_beam' >/dev/null 2>&1 || {
  echo "error: the installation did not complete (see pip's messages above); rerun ./install.sh --force" >&2
  exit 3
}
echo "$wanted" > "$stamp"
echo "[install] done in $(( $(date +%s) - start )) s"
