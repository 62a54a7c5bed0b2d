#!/usr/bin/env bash
# Export the latest checkpoint of $TRAIN_MODEL_PATH as a SavedModel to $EXPORT_MODEL_PATH.
#   ./save-model.sh [--cloud] [--export_path PATH] [...]
# With --cloud the export runs as a Vertex AI job on the bucket's paths.
# Run with --help for every option.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

EXPORT_ARGS=(
  --model_path "$TRAIN_MODEL_PATH"
  --export_path "$EXPORT_MODEL_PATH"
  --color_map "$COLOR_MAP_PATH"
)

if [ "$USE_CLOUD" = true ]; then
  # exporting takes seconds on a CPU: no accelerator unless EXPORT_ACCELERATOR_COUNT asks for one
  ACCELERATOR_COUNT="${EXPORT_ACCELERATOR_COUNT:-0}" gym_python -m sciencebeam_gym.cloud.vertex_job \
    --module sciencebeam_gym.serving.export \
    --job_id "${JOB_ID}_export" \
    "${EXPORT_ARGS[@]}" \
    "${SCRIPT_ARGS[@]}"
else
  gym_python -m sciencebeam_gym.serving.export \
    "${EXPORT_ARGS[@]}" \
    "${SCRIPT_ARGS[@]}"
fi
