#!/usr/bin/env bash
# Train the word labeller (a CRF over each page's words) on token files, reading the vision
# model's classes under each word from its export; the model goes beside the export.
#   ./train-word-model.sh [--tokens GLOB[:WEIGHT] ...] [--no_painted] [--max_iterations N] [...]
# Token files: WORD_TRAIN_PATHS (GLOB[:WEIGHT], space-separated; default $DATA_PATH/train, as
# generate-data.sh and generate-sample-data.sh --format pdf write them), scored after training
# on WORD_EVAL_PATHS (default $DATA_PATH/test). Vision model: $EXPORT_MODEL_PATH (./save-model.sh).
# Output: WORD_MODEL_PATH (default: word-model/ beside the export, where extract.sh finds it).
# Settings: WORD_TRAINING_ARGS, then the arguments given here. Run with --help for every flag.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.words.train
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

WORD_ARGS=(--output "$WORD_MODEL_PATH" --color_map "$COLOR_MAP_PATH" --export_path "$EXPORT_MODEL_PATH")
if ! gym_has_arg --tokens; then
  gym_add_repeated WORD_ARGS --tokens WORD_TRAIN_PATHS "$DATA_PATH/train"
fi
if ! gym_has_arg --eval_tokens && { [ -n "$WORD_EVAL_PATHS" ] || [ -d "$DATA_PATH/test" ]; }; then
  gym_add_repeated WORD_ARGS --eval_tokens WORD_EVAL_PATHS "$DATA_PATH/test"
fi
gym_words WORD_TRAINING_ARGS "$WORD_TRAINING_ARGS"
WORD_ARGS+=("${GYM_WORDS[@]}")

gym_python -m "$GYM_MODULE" "${WORD_ARGS[@]}" "${SCRIPT_ARGS[@]}"
