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
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

WORD_ARGS=(--output "$WORD_MODEL_PATH" --color_map "$COLOR_MAP_PATH")
if ! gym_has_arg --tokens; then
  mapfile -t SOURCE_ARGS < <(gym_repeat_flag --tokens "$WORD_TRAIN_PATHS" "$DATA_PATH/train")
  WORD_ARGS+=("${SOURCE_ARGS[@]}")
fi
if ! gym_has_arg --eval_tokens; then
  eval_default="$DATA_PATH/test"
  if [ -n "$WORD_EVAL_PATHS" ] || [ -d "$eval_default" ]; then
    mapfile -t EVAL_ARGS < <(gym_repeat_flag --eval_tokens "$WORD_EVAL_PATHS" "$eval_default")
    WORD_ARGS+=("${EVAL_ARGS[@]}")
  fi
fi
if ! gym_has_arg --no_painted && ! gym_has_arg --saved_model; then
  if [ ! -e "$EXPORT_MODEL_PATH" ] && [ "$USE_CLOUD" != true ]; then
    echo "error: no vision model export at $EXPORT_MODEL_PATH to read the painted classes from." >&2
    echo "  export one with ./save-model.sh, or train without them: ./train-word-model.sh --no_painted" >&2
    exit 2
  fi
  WORD_ARGS+=(--saved_model "$EXPORT_MODEL_PATH")
fi
if [ -n "${WORD_TRAINING_ARGS:-}" ]; then
  read -r -a EXTRA_WORD_ARGS <<< "$WORD_TRAINING_ARGS"
  WORD_ARGS+=("${EXTRA_WORD_ARGS[@]}")
fi

gym_python -m sciencebeam_gym.words.train "${WORD_ARGS[@]}" "${SCRIPT_ARGS[@]}"
