#!/usr/bin/env bash
# Paint the structure of pages with the trained model.
#   ./predict.sh <page.png | folder | doc.pdf> [<output>] [--cloud] [--overlay] [--boxes]
#                [--saved-model PATH] [...]
# Model: --saved-model PATH if given, else the export in $EXPORT_MODEL_PATH (./save-model.sh)
# when there is one, else the latest checkpoint of $TRAIN_MODEL_PATH.
# Output: <input stem>.out.png at the input's size (a folder or PDF: one per page).
# Run with --help for every option.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.serving.predict
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

gym_python -m "$GYM_MODULE" \
  --export_path "$EXPORT_MODEL_PATH" \
  --data_path "$DATA_PATH" \
  --model_path "$TRAIN_MODEL_PATH" \
  --color_map "$COLOR_MAP_PATH" \
  "${SCRIPT_ARGS[@]}"
