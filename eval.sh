#!/usr/bin/env bash
# Evaluate the latest checkpoint in $TRAIN_MODEL_PATH on $PREPROC_PATH/test (or EVAL_DATA_PATHS)
# and write $TRAIN_MODEL_PATH/eval/metrics.json (overall and per group), confusion_matrix.{json,png}.
#   ./eval.sh [--cloud] [--write_predictions] [--eval_data_paths GLOB --output_path DIR] [...]
# Records given with --eval_data_paths (repeatable) replace EVAL_DATA_PATHS / the test split.
# Run with --help for every option.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.trainer.evaluate_checkpoint
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

EVAL_ARGS=(--model_path "$TRAIN_MODEL_PATH")
if ! gym_has_arg --eval_data_paths; then
  gym_add_repeated EVAL_ARGS --eval_data_paths EVAL_DATA_PATHS \
    "$(gym_glob_escape "$PREPROC_PATH/test")/*tfrecord*"
fi

gym_run_module "$GYM_MODULE" "${EVAL_ARGS[@]}" "${SCRIPT_ARGS[@]}"
