#!/usr/bin/env bash
# Score the extraction field by field against the publishers' JATS.
#   ./evaluate-extraction.sh [--source DIR_OR_LIST] [--model PATH] [--output DIR]
#                            [--extracted DIR] [--pictures] [--pages 1] [--cloud] [...]
# Source: GENERATE_SOURCE (.config), else ../shared/data/pdf-jats beside the repository.
# Model: --model PATH if given, else the export in $EXPORT_MODEL_PATH (./save-model.sh) when
# there is one, else the training folder $TRAIN_MODEL_PATH. Output: the model run's folder
# ($EXPORT_MODEL_PATH/..); results go to <output>/evaluation/ (fields.csv, summary.json,
# extracted/, pictures/).
# --extracted DIR scores already extracted <name>.xml files instead (no model needed).
# Words: the word model ($WORD_MODEL_PATH, or the one beside --model) labels them when there is
# one; --labeller words|pixels chooses. --leave_out publisher: leave-publisher-out figures.
# Run with --help for every option; see doc/extract-evaluation.md.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.field_evaluation
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

default_args=()
if ! gym_has_arg --source; then
  source_path="$(gym_default_source)" || exit 2
  default_args+=(--source "$source_path")
fi
word_args=()
if ! gym_has_arg --model && ! gym_has_arg --extracted && ! gym_has_arg --word_model \
  && ! gym_has_arg --word-model && ! gym_has_arg --leave_out && ! gym_has_arg --leave-out \
  && [ -e "$WORD_MODEL_PATH/word-model.json" ]; then
  word_args=(--word_model "$WORD_MODEL_PATH")
fi
if ! gym_has_arg --output; then
  default_args+=(--output "$(dirname "$EXPORT_MODEL_PATH")")
fi
cloud_args=()
if [ "$USE_CLOUD" = true ]; then
  cloud_args=(--cloud --job_name "evaluate-extraction-${JOB_ID}")
fi

gym_python -m "$GYM_MODULE" \
  --export_path "$EXPORT_MODEL_PATH" \
  --model_path "$TRAIN_MODEL_PATH" \
  "${default_args[@]}" \
  "${word_args[@]}" \
  "${cloud_args[@]}" \
  "${SCRIPT_ARGS[@]}"
