#!/usr/bin/env bash
# Look at the preprocessed TFRecords of both splits: record counts, feature keys, N example pairs
# (side by side, in .temp/inspect-tf-records/) and class pixel frequencies (table + summary.json).
#   ./inspect-tf-records.sh [--cloud] [--examples N] [--max_records N]
set -euo pipefail
GYM_MODULE=sciencebeam_gym.preprocess.inspect_records
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

gym_python -m "$GYM_MODULE" \
  --preproc_path "$PREPROC_PATH" \
  --color_map "$COLOR_MAP_PATH" \
  --output_dir "$GYM_ROOT/.temp/inspect-tf-records" \
  "${SCRIPT_ARGS[@]}"
