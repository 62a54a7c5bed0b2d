#!/usr/bin/env bash
# The real-data recipe in one command: PDF + JATS pairs -> a model trained on them mixed with the
# synthetic sample corpus -> its figures per publisher on articles it never saw.
#   ./real-data.sh [--cloud] [--stages sample,real,unseen,train,eval] [...]
# Stages (each an existing script; the folders are versions of the configured model):
#   sample  the sample corpus at this IMAGE_WIDTH x IMAGE_HEIGHT      -> VERSION_NAME-sample
#   real    REAL_SOURCE: whole articles to train on (REAL_PAGES), first pages of the test
#           split's articles (REAL_TEST_FRACTION)                     -> VERSION_NAME-real
#   unseen  REAL_UNSEEN_SOURCE: first pages only, all in test, grouped by publisher
#                                                                      -> VERSION_NAME-unseen
#   train   TRAINING_PRESET (default real) on sample:REAL_SAMPLE_WEIGHT + real:REAL_WEIGHT,
#           evaluated during training on the real test pages         -> VERSION_NAME-real model
#   eval    eval.sh on the real test pages and on the unseen pages (metrics.json per publisher)
# Settings (.config or the environment, defaults below): REAL_SOURCE, REAL_UNSEEN_SOURCE,
# REAL_PAGES, REAL_TEST_FRACTION, REAL_SAMPLE_WEIGHT, REAL_WEIGHT; see doc/real-data.md.
# Arguments other than --cloud and --stages go to train.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
source "$root/prepare-shell.sh" "$@"

shared="$GYM_ROOT/../shared/data"
: "${REAL_SOURCE:=$shared/pdf-jats-hindawi}"
: "${REAL_UNSEEN_SOURCE:=$shared/pdf-jats}"
: "${REAL_PAGES:=all}"
: "${REAL_TEST_FRACTION:=$GENERATE_TEST_FRACTION}"
: "${REAL_SAMPLE_WEIGHT:=1}"
: "${REAL_WEIGHT:=1}"
export TRAINING_PRESET="${TRAINING_PRESET:-real}"

stages="sample,real,unseen,train,eval"
train_args=()
cloud_args=()
[ "$USE_CLOUD" = true ] && cloud_args=(--cloud)
expect_stages=false
for arg in "${SCRIPT_ARGS[@]}"; do
  if [ "$expect_stages" = true ]; then
    stages="$arg"
    expect_stages=false
  elif [ "$arg" = "--stages" ]; then
    expect_stages=true
  else
    train_args+=("$arg")
  fi
done

for stage in ${stages//,/ }; do
  case "$stage" in
    sample | real | unseen | train | eval) ;;
    *)
      echo "error: --stages $stages: unknown stage '$stage' (use sample,real,unseen,train,eval)" >&2
      exit 2
      ;;
  esac
done

base="$VERSION_NAME"
sample_version="${base}-sample"
real_version="${base}-real"
unseen_version="${base}-unseen"

has_stage() {
  [[ ",$stages," == *",$1,"* ]]
}

run_stage() {
  echo
  echo "==> [$(date +%H:%M:%S)] real-data: $*"
}

if has_stage sample; then
  run_stage "sample corpus -> version $sample_version"
  VERSION_NAME="$sample_version" ./generate-sample-data.sh "${cloud_args[@]}"
  VERSION_NAME="$sample_version" ./preprocess.sh "${cloud_args[@]}"
fi
if has_stage real; then
  run_stage "real articles from $REAL_SOURCE (pages $REAL_PAGES; first pages to test) -> version $real_version"
  VERSION_NAME="$real_version" ./generate-data.sh "${cloud_args[@]}" --source "$REAL_SOURCE" \
    --pages "$REAL_PAGES" --test_pages 1 --test_fraction "$REAL_TEST_FRACTION" --group publisher
  VERSION_NAME="$real_version" ./preprocess.sh "${cloud_args[@]}"
fi
if has_stage unseen; then
  run_stage "unseen articles from $REAL_UNSEEN_SOURCE (first pages, all to test) -> version $unseen_version"
  VERSION_NAME="$unseen_version" ./generate-data.sh "${cloud_args[@]}" --source "$REAL_UNSEEN_SOURCE" \
    --pages 1 --test_fraction 1 --group publisher
  VERSION_NAME="$unseen_version" ./preprocess.sh "${cloud_args[@]}"
fi

sample_records="$(gym_glob_escape "$(gym_version_path "$sample_version" PREPROC_PATH)")"
real_records="$(gym_glob_escape "$(gym_version_path "$real_version" PREPROC_PATH)")"
unseen_records="$(gym_glob_escape "$(gym_version_path "$unseen_version" PREPROC_PATH)")"
if has_stage train; then
  run_stage "train (preset $TRAINING_PRESET): sample x $REAL_SAMPLE_WEIGHT + real x $REAL_WEIGHT"
  # record flags given to train.sh replace the configuration's TRAIN_DATA_PATHS / EVAL_DATA_PATHS
  VERSION_NAME="$real_version" ./train.sh "${cloud_args[@]}" \
    --train_data_paths "$sample_records/train/*tfrecord*:$REAL_SAMPLE_WEIGHT" \
    --train_data_paths "$real_records/train/*tfrecord*:$REAL_WEIGHT" \
    --eval_data_paths "$real_records/test/*tfrecord*" \
    "${train_args[@]}"
fi
if has_stage eval; then
  model_path="$(gym_version_path "$real_version" TRAIN_MODEL_PATH)"
  run_stage "evaluate on the real test pages -> $model_path/eval"
  VERSION_NAME="$real_version" ./eval.sh "${cloud_args[@]}" \
    --eval_data_paths "$real_records/test/*tfrecord*" --output_path "$model_path/eval"
  run_stage "evaluate on the unseen publishers' pages -> $model_path/eval-unseen"
  VERSION_NAME="$real_version" ./eval.sh "${cloud_args[@]}" \
    --eval_data_paths "$unseen_records/test/*tfrecord*" --output_path "$model_path/eval-unseen"
fi
