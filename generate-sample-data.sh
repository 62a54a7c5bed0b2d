#!/usr/bin/env bash
# Write the embedded sample corpus (synthetic article first pages + label images) to $DATA_PATH.
#   ./generate-sample-data.sh [--cloud] [--train_pages N] [--test_pages N] [--seed N] [...]
# Run with --help for every option.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.sample_data
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

gym_python -m "$GYM_MODULE" \
  --output_path "$DATA_PATH" \
  --color_map "$COLOR_MAP_PATH" \
  --train_pages "$SAMPLE_TRAIN_PAGES" \
  --test_pages "$SAMPLE_TEST_PAGES" \
  --seed "$SAMPLE_SEED" \
  "${SCRIPT_ARGS[@]}"
