#!/usr/bin/env bash
# Preprocess the train and test splits of $DATA_PATH into gzipped TFRecords under $PREPROC_PATH.
#   ./preprocess.sh [--cloud] [--dry-run] [pipeline flags, e.g. --num_workers 2 --max_error_rate 0.2]
# Locally it uses all cores (Beam's DirectRunner); --cloud runs on Dataflow with the options of
# the configuration. --dry-run prints the resolved pipeline options of each split and stops.
# A split without pages is skipped with a warning. Run with --help for every flag.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.preprocess
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

cloud_args=()
if [ "$USE_CLOUD" = true ]; then
  cloud_args=(--cloud --job_id "$JOB_ID")
fi

gym_python -m "$GYM_MODULE" \
  --data_path "$DATA_PATH" \
  --preproc_path "$PREPROC_PATH" \
  --image_width "$IMAGE_WIDTH" \
  --image_height "$IMAGE_HEIGHT" \
  --color_map "$COLOR_MAP_PATH" \
  "${cloud_args[@]}" \
  "${SCRIPT_ARGS[@]}"
