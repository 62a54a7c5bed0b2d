#!/usr/bin/env bash
# Evaluate the latest checkpoint in $TRAIN_MODEL_PATH on $PREPROC_PATH/test (or EVAL_DATA_PATHS)
# and write $TRAIN_MODEL_PATH/eval/metrics.json (overall and per group), confusion_matrix.{json,png}.
#   ./eval.sh [--cloud] [--write_predictions] [--eval_data_paths GLOB --output_path DIR] [...]
# Run with --help for every option.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

EVAL_ARGS=(--model_path "$TRAIN_MODEL_PATH")
# records given on the command line replace EVAL_DATA_PATHS / the default test split (the flag
# is repeatable)
if ! gym_has_arg --eval_data_paths && ! gym_has_arg --eval-data-paths; then
  mapfile -t DATA_ARGS < <(
    gym_repeat_flag --eval_data_paths "$EVAL_DATA_PATHS" "$(gym_glob_escape "$PREPROC_PATH/test")/*tfrecord*"
  )
  EVAL_ARGS+=("${DATA_ARGS[@]}")
fi

gym_run_module sciencebeam_gym.trainer.evaluate_checkpoint "${EVAL_ARGS[@]}" "${SCRIPT_ARGS[@]}"
