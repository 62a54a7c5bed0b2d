#!/usr/bin/env bash
# Preprocess the train and test splits of $DATA_PATH into gzipped TFRecords under $PREPROC_PATH.
#   ./preprocess.sh [--cloud] [--dry-run] [pipeline flags, e.g. --num_workers 2 --max_error_rate 0.2]
# Locally it uses all cores (Beam's DirectRunner); --cloud runs on Dataflow with the options of
# the configuration. --dry-run prints the resolved pipeline options of each split and stops.
# Run `.venv/bin/python -m sciencebeam_gym.preprocess.pipeline --help` for every flag.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

pass_args=()
dry_run=false
for arg in "${SCRIPT_ARGS[@]}"; do
  if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then
    gym_python -m sciencebeam_gym.preprocess.pipeline --help
    exit 0
  elif [ "$arg" = "--dry-run" ] || [ "$arg" = "--dry_run" ]; then
    pass_args+=(--dry_run)
    dry_run=true
  else
    pass_args+=("$arg")
  fi
done

# every page of every document: <split>/<group>/<doc_id>/<doc_id>-page<N>[.annot].png
pages_glob() {
  printf '%s' "$(gym_glob_escape "$DATA_PATH/$1")/*/*/*-page[0-9]*.png"
}

# Known empty: a local split without pages (a bucket is left to the pipeline's exit status).
split_is_empty() {
  [[ "$DATA_PATH" != *://* ]] && ! compgen -G "$(pages_glob "$1")" >/dev/null
}

# A folder with pages of one split only (e.g. test pages for an evaluation) is fine.
skip_split() {
  echo "warning: no pages in $DATA_PATH/$1: split skipped ($PREPROC_PATH/$1 left as it was)" >&2
}

# Exit status of the pipeline when no file matches its input (an empty split).
EXIT_NO_INPUT=4  # sciencebeam_gym.preprocess.pipeline.EXIT_NO_INPUT
# With no pages anywhere the pipeline runs anyway, so a wrong flag is reported before that.
some_pages=false
for split in train test; do
  split_is_empty "$split" || some_pages=true
done
splits_done=0
for split in train test; do
  if [ "$dry_run" = false ] && [ "$some_pages" = true ] && split_is_empty "$split"; then
    skip_split "$split"
    continue
  fi
  args=(
    --data_paths "$(pages_glob "$split")"
    --output_path "$PREPROC_PATH/$split"
    --image_width "$IMAGE_WIDTH"
    --image_height "$IMAGE_HEIGHT"
    --color_map "$COLOR_MAP_PATH"
  )
  if [ "$USE_CLOUD" = true ]; then
    args+=(--cloud --job_name "${JOB_ID}-preprocess-${split}")
  fi
  echo "==> preprocess $split: $DATA_PATH/$split -> $PREPROC_PATH/$split" >&2
  status=0
  gym_python -m sciencebeam_gym.preprocess.pipeline "${args[@]}" "${pass_args[@]}" || status=$?
  if [ "$status" -eq "$EXIT_NO_INPUT" ]; then
    skip_split "$split"
  elif [ "$status" -ne 0 ]; then
    exit "$status"
  else
    splits_done=$((splits_done + 1))
  fi
done
if [ "$splits_done" -eq 0 ]; then
  echo "error: no pages in any split of $DATA_PATH; run ./generate-data.sh or ./generate-sample-data.sh first" >&2
  exit 2
fi
