#!/usr/bin/env bash
# The trainer, evaluation and export tests under the versions of the Vertex AI training image
# (tf-gpu.2-17.py310: Python 3.10, TensorFlow 2.17), in a virtualenv of their own installed from
# constraints/vertex-tf2.17-py310.txt.
#   .ci/cloud-image-tests.sh                 install (first time: ~5 min) and run the tests
#   .ci/cloud-image-tests.sh -m "not slow"   pytest arguments replace the default "-m 'not slow'"
# PYTHON310 chooses the interpreter (default: python3.10 on PATH, else pyenv's 3.10);
# CLOUD_IMAGE_VENV the virtualenv (default .temp/venv-tf2.17-py310; brought up to date in place
# when the constraints file changes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
constraints="constraints/vertex-tf2.17-py310.txt"
venv="${CLOUD_IMAGE_VENV:-$root/.temp/venv-tf2.17-py310}"

is_python310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
python="${PYTHON310:-}"
if [ -z "$python" ]; then
  for candidate in python3.10 "$HOME"/.pyenv/versions/3.10.*/bin/python; do
    if is_python310 "$candidate"; then
      python="$candidate"
      break
    fi
  done
fi
if [ -z "$python" ] || ! is_python310 "$python"; then
  echo "error: no Python 3.10 (the image's version) found; set PYTHON310=/path/to/python3.10" >&2
  exit 3
fi

wanted="$(sha256sum < "$constraints" | cut -d' ' -f1)"
stamp="$venv/.installed-constraints-sha"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "[cloud-image] installing into $venv from $constraints"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -c "$constraints" -e ".[dev]"
  echo "$wanted" > "$stamp"
fi
"$venv/bin/python" -c 'import sys, tensorflow as tf, apache_beam as beam, google.protobuf as pb
print(f"[cloud-image] Python {sys.version.split()[0]}, TensorFlow {tf.__version__}, "
      f"Beam {beam.__version__}, protobuf {pb.__version__}")' 2>/dev/null

if [ "$#" -eq 0 ]; then
  set -- -m "not slow"
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# -p no:cacheprovider: the checkout's .pytest_cache belongs to the main environment
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q tests/trainer tests/serving \
  tests/test_packaging.py "$@"
