#!/usr/bin/env bash
# Re-resolve the known-good dependency sets from setup.py's requirements (needs PyPI, ~1 min):
#   constraints/refresh.sh
# then run ./install.sh --force && ./run-tests.sh and .ci/cloud-image-tests.sh before committing.
#   local.txt                 every extra, for Python 3.10-3.13 (./install.sh uses it)
#   vertex-tf2.17-py310.txt   the same under the Vertex AI image tf-gpu.2-17.py310 (Python 3.10,
#                             TensorFlow 2.17), what .ci/cloud-image-tests.sh installs
# uv resolves both in seconds; it is fetched into a throw-away virtualenv when not on PATH.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

uv="$(command -v uv || true)"
if [ -z "$uv" ]; then
  tools="$(mktemp -d)"
  trap 'rm -rf "$tools"' EXIT
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet uv
  uv="$tools/venv/bin/uv"
fi

compile() {
  "$uv" pip compile setup.py --extra dev --quiet \
    --custom-compile-command "constraints/refresh.sh" "$@"
}

compile --universal --python-version 3.10 -o constraints/local.txt
# The image's TensorFlow is fixed; everything else is resolved around it.
compile --python-version 3.10 --python-platform x86_64-manylinux_2_28 \
  --constraint constraints/vertex-image.in -o constraints/vertex-tf2.17-py310.txt
echo "refreshed: constraints/local.txt constraints/vertex-tf2.17-py310.txt"
