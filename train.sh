#!/usr/bin/env bash
# Train the pix2pix model on $PREPROC_PATH/train (or TRAIN_DATA_PATHS, a list of GLOB[:WEIGHT]),
# evaluating on $PREPROC_PATH/test (or EVAL_DATA_PATHS); output
# (checkpoints, config.json, TensorBoard events) in $TRAIN_MODEL_PATH. A re-run resumes.
#   ./train.sh [--cloud] [--max_steps N] [--ngf 32] [--train_data_paths GLOB[:WEIGHT]] [...]
# Settings: TRAINING_PRESET (a named budget, e.g. quick), then TRAINING_ARGS, then the
# arguments given here, each overriding the one before: --train_data_paths / --eval_data_paths
# given here replace TRAIN_DATA_PATHS / EVAL_DATA_PATHS. Run with --help for every flag.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.trainer.task
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

TRAINER_ARGS=()
if ! gym_has_arg --train_data_paths; then
  gym_add_repeated TRAINER_ARGS --train_data_paths TRAIN_DATA_PATHS \
    "$(gym_glob_escape "$PREPROC_PATH/train")/*tfrecord*"
fi
if ! gym_has_arg --eval_data_paths; then
  gym_add_repeated TRAINER_ARGS --eval_data_paths EVAL_DATA_PATHS \
    "$(gym_glob_escape "$PREPROC_PATH/test")/*tfrecord*"
fi
TRAINER_ARGS+=(
  --output_path "$TRAIN_MODEL_PATH"
  --color_map "$COLOR_MAP_PATH"
  --use_separate_channels "$USE_SEPARATE_CHANNELS"
  --image_width "$IMAGE_WIDTH"
  --image_height "$IMAGE_HEIGHT"
)
if [ -n "${TRAINING_PRESET:-}" ]; then
  TRAINER_ARGS+=(--preset "$TRAINING_PRESET")
fi
gym_words TRAINING_ARGS "$TRAINING_ARGS"
TRAINER_ARGS+=("${GYM_WORDS[@]}")

gym_run_module "$GYM_MODULE" "${TRAINER_ARGS[@]}" "${SCRIPT_ARGS[@]}"
