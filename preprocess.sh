#!/usr/bin/env bash
# Preprocess the train and test splits of $DATA_PATH into gzipped TFRecords under $PREPROC_PATH.
#   ./preprocess.sh [--cloud] [--dry-run] [pipeline flags, e.g. --num_workers 2 --max_error_rate 0.2]
# Locally it uses all cores (Beam's DirectRunner); --cloud runs on Dataflow with the options of
# the configuration. --dry-run prints the resolved pipeline options of each split and stops.
# Run `.venv/bin/python -m sciencebeam_gym.preprocess.pipeline --help` for every flag.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

pass_args=()
for arg in "${SCRIPT_ARGS[@]}"; do
  if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then
    gym_python -m sciencebeam_gym.preprocess.pipeline --help
    exit 0
  elif [ "$arg" = "--dry-run" ]; then
    pass_args+=(--dry_run)
  else
    pass_args+=("$arg")
  fi
done

for split in train test; do
  args=(
    --data_paths "$DATA_PATH/$split/*/*/*-page1*.png"
    --output_path "$PREPROC_PATH/$split"
    --image_width "$IMAGE_WIDTH"
    --image_height "$IMAGE_HEIGHT"
    --color_map "$COLOR_MAP_PATH"
  )
  if [ "$USE_CLOUD" = true ]; then
    args+=(--cloud --job_name "${JOB_ID}-preprocess-${split}")
  fi
  echo "==> preprocess $split: $DATA_PATH/$split -> $PREPROC_PATH/$split" >&2
  gym_python -m sciencebeam_gym.preprocess.pipeline "${args[@]}" "${pass_args[@]}"
done
