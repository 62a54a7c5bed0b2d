#!/usr/bin/env bash
# Compute median-frequency class weights from $PREPROC_PATH/train and write them to
# $CLASS_WEIGHTS_PATH (default $PREPROC_PATH/class-weights.json). Train with them:
#   TRAINING_ARGS="--base_loss weighted_cross_entropy --class_weights $PREPROC_PATH/class-weights.json"
# (without --class_weights the trainer computes the same weights itself at the start).
#   ./calculate-class-weights.sh [--cloud] [--method inverse_frequency] [--max_weight 50] [...]
set -euo pipefail
GYM_MODULE=sciencebeam_gym.trainer.class_weights
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"
: "${CLASS_WEIGHTS_PATH:=$PREPROC_PATH/class-weights.json}"

gym_python -m "$GYM_MODULE" \
  --data_paths "$(gym_glob_escape "$PREPROC_PATH/train")/*tfrecord*" \
  --color_map "$COLOR_MAP_PATH" \
  --output_path "$CLASS_WEIGHTS_PATH" \
  "${SCRIPT_ARGS[@]}"
