#!/usr/bin/env bash
# Export the latest checkpoint of $TRAIN_MODEL_PATH as a SavedModel to $EXPORT_MODEL_PATH, with
# GENERATE_DPI (the resolution the training pages were rendered at) in its metadata.
#   ./save-model.sh [--cloud] [--export_path PATH] [--dpi N] [...]
# With --cloud the export runs as a Vertex AI job on the bucket's paths.
# Run with --help for every option.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.serving.export
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

# With --cloud: exporting takes seconds on a CPU, so no accelerator unless
# EXPORT_ACCELERATOR_COUNT asks for one, and the job is named apart from the training's.
ACCELERATOR_COUNT="${EXPORT_ACCELERATOR_COUNT:-0}" JOB_ID="${JOB_ID}_export" \
  gym_run_module "$GYM_MODULE" \
  --model_path "$TRAIN_MODEL_PATH" \
  --export_path "$EXPORT_MODEL_PATH" \
  --color_map "$COLOR_MAP_PATH" \
  --dpi "$GENERATE_DPI" \
  "${SCRIPT_ARGS[@]}"
