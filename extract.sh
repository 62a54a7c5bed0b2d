#!/usr/bin/env bash
# Extract structured articles from PDFs: JATS XML (or JSON, or TEI) with title, authors, affiliations,
# abstract, keywords, sections and references, from the trained model and the PDF's text layer.
#   ./extract.sh INPUT [OUTPUT] [--cloud] [--format json|tei] [--pages 1-3] [--saved-model PATH]
# INPUT: a PDF, a folder of PDFs or a file list; OUTPUT: a folder (default: INPUT-extracted).
# Model: --saved-model PATH if given, else the export in $EXPORT_MODEL_PATH (./save-model.sh)
# when there is one, else the latest checkpoint of $TRAIN_MODEL_PATH. See doc/extract.md.
# Words: the word model ($WORD_MODEL_PATH, ./train-word-model.sh) labels them when there is one
# (--labeller words|pixels chooses; with --saved-model, the word model beside it).
set -euo pipefail
GYM_MODULE=sciencebeam_gym.extract.cli
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

cloud_args=()
if [ "$USE_CLOUD" = true ]; then
  cloud_args=(--cloud --job_name "extract-${JOB_ID:-run}")
fi

word_args=()
if ! gym_has_arg --saved_model && ! gym_has_arg --saved-model && ! gym_has_arg --word_model \
  && ! gym_has_arg --word-model && [ -e "$WORD_MODEL_PATH/word-model.json" ]; then
  word_args=(--word_model "$WORD_MODEL_PATH")
fi

gym_python -m "$GYM_MODULE" \
  --export_path "$EXPORT_MODEL_PATH" \
  --model_path "$TRAIN_MODEL_PATH" \
  "${word_args[@]}" \
  "${cloud_args[@]}" \
  "${SCRIPT_ARGS[@]}"
