#!/usr/bin/env bash
# The first command: set everything up and run the whole pipeline on the embedded sample corpus.
#   ./quickstart.sh [--cloud]
# Stages: install (.venv) -> sample corpus -> preprocess (TFRecords) -> train (quick preset)
#         -> evaluate -> export the model -> predict a test page.
# Each stage prints where its output is. TRAINING_PRESET defaults to "quick" here.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

stage() {
  echo
  echo "==> [$(date +%H:%M:%S)] $*"
}
elapsed() {
  echo "    ($(( $(date +%s) - $1 )) s)"
}

started=$(date +%s)
stage "1/7 install: .venv with the toolkit and its dependencies"
t=$(date +%s); ./install.sh; elapsed "$t"

export TRAINING_PRESET="${TRAINING_PRESET:-quick}"
export GYM_QUIET=true
source "$root/prepare-shell.sh" "$@"
gym_print_config

stage "2/7 sample corpus: synthetic article first pages -> $DATA_PATH"
t=$(date +%s); ./generate-sample-data.sh "$@"; elapsed "$t"

echo
echo "Quick start finished in $(( $(date +%s) - started )) s."
echo "  sample pages and annotations: $DATA_PATH/{train,test}"
