#!/usr/bin/env bash
# Train the pix2pix model on $PREPROC_PATH/train (or TRAIN_DATA_PATHS, a list of GLOB[:WEIGHT]),
# evaluating on $PREPROC_PATH/test (or EVAL_DATA_PATHS); output
# (checkpoints, config.json, TensorBoard events) in $TRAIN_MODEL_PATH. A re-run resumes.
#   ./train.sh [--cloud] [--max_steps N] [--ngf 32] [...]
# Settings: TRAINING_PRESET (a named budget, e.g. quick), then TRAINING_ARGS, then the
# arguments given here, each overriding the one before. Run with --help for every flag.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

mapfile -t TRAINER_ARGS < <(
  gym_repeat_flag --train_data_paths "$TRAIN_DATA_PATHS" "$(gym_glob_escape "$PREPROC_PATH/train")/*tfrecord*"
  gym_repeat_flag --eval_data_paths "$EVAL_DATA_PATHS" "$(gym_glob_escape "$PREPROC_PATH/test")/*tfrecord*"
)
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
if [ -n "${TRAINING_ARGS:-}" ]; then
  read -r -a EXTRA_TRAINING_ARGS <<< "$TRAINING_ARGS"
  TRAINER_ARGS+=("${EXTRA_TRAINING_ARGS[@]}")
fi

gym_run_module sciencebeam_gym.trainer.task "${TRAINER_ARGS[@]}" "${SCRIPT_ARGS[@]}"
