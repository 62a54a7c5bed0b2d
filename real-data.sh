#!/usr/bin/env bash
# The real-data recipe in one command: PDF + JATS pairs -> a vision model and a word model trained
# on them mixed with the synthetic sample corpus -> their figures on articles they never saw.
#   ./real-data.sh [--cloud] [--stages sample,real,unseen,train,eval,words] [...]
# Stages (each an existing script; the folders are versions of the configured model):
#   sample  the sample corpus (pages, PDFs and token files) at IMAGE_WIDTH x IMAGE_HEIGHT
#                                                                      -> VERSION_NAME-sample
#   real    each of REAL_SOURCES: whole articles to train on (REAL_PAGES), first pages of the
#           test split's articles (REAL_TEST_FRACTION), grouped by publisher
#                                                        -> VERSION_NAME-real-<source folder>
#   unseen  REAL_UNSEEN_SOURCE: first pages only, all in test, grouped by publisher
#                                                                      -> VERSION_NAME-unseen
#   train   TRAINING_PRESET (default real) on sample:REAL_SAMPLE_WEIGHT + each real source:
#           REAL_WEIGHT, evaluated during training on the real test pages
#                                                                -> VERSION_NAME-real model
#   eval    eval.sh on the real test pages and on the unseen pages (metrics.json per publisher)
#   words   the model exported (save-model.sh, unless it is), then train-word-model.sh on the
#           token files of the sample corpus (REAL_SAMPLE_WORD_WEIGHT) and of every real source's
#           training split, scored on their test splits   -> VERSION_NAME-real/word-model
# Settings (.config or the environment, defaults below): REAL_SOURCES, REAL_UNSEEN_SOURCE,
# REAL_PAGES, REAL_TEST_FRACTION, REAL_SAMPLE_WEIGHT, REAL_WEIGHT, REAL_SAMPLE_WORD_WEIGHT; see
# doc/real-data.md. Arguments other than --cloud and --stages go to train.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
source "$root/prepare-shell.sh" "$@"

shared="$GYM_ROOT/../shared/data"
# REAL_SOURCE (one folder) was the setting before REAL_SOURCES; it still works
: "${REAL_SOURCES:=${REAL_SOURCE:-$shared/pdf-jats-hindawi $shared/pdf-jats-more}}"
: "${REAL_UNSEEN_SOURCE:=$shared/pdf-jats}"
: "${REAL_PAGES:=all}"
: "${REAL_TEST_FRACTION:=$GENERATE_TEST_FRACTION}"
: "${REAL_SAMPLE_WEIGHT:=1}"
: "${REAL_WEIGHT:=1}"
: "${REAL_SAMPLE_WORD_WEIGHT:=0.5}"
export TRAINING_PRESET="${TRAINING_PRESET:-real}"

stages="sample,real,unseen,train,eval,words"
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
    sample | real | unseen | train | eval | words) ;;
    *)
      echo "error: --stages $stages: unknown stage '$stage' (use sample,real,unseen,train,eval,words)" >&2
      exit 2
      ;;
  esac
done

base="$VERSION_NAME"
sample_version="${base}-sample"
real_version="${base}-real"
unseen_version="${base}-unseen"
read -r -a real_sources <<< "$REAL_SOURCES"
if [ "${#real_sources[@]}" -eq 0 ]; then
  echo "error: REAL_SOURCES is empty: name at least one folder of PDF + JATS pairs" >&2
  exit 2
fi

# the data version of a real source: VERSION_NAME-real-<its folder name>
source_version() {
  local name
  name="$(basename "${1%/}")"
  echo "${real_version}-${name//[^A-Za-z0-9_.-]/-}"
}

has_stage() {
  [[ ",$stages," == *",$1,"* ]]
}

run_stage() {
  echo
  echo "==> [$(date +%H:%M:%S)] real-data: $*"
}

if has_stage sample; then
  run_stage "sample corpus -> version $sample_version"
  VERSION_NAME="$sample_version" ./generate-sample-data.sh "${cloud_args[@]}" --format pdf
  VERSION_NAME="$sample_version" ./preprocess.sh "${cloud_args[@]}"
fi
if has_stage real; then
  for real_source in "${real_sources[@]}"; do
    version="$(source_version "$real_source")"
    run_stage "real articles from $real_source (pages $REAL_PAGES; first pages to test) -> version $version"
    VERSION_NAME="$version" ./generate-data.sh "${cloud_args[@]}" --source "$real_source" \
      --pages "$REAL_PAGES" --test_pages 1 --test_fraction "$REAL_TEST_FRACTION" --group publisher
    VERSION_NAME="$version" ./preprocess.sh "${cloud_args[@]}"
  done
fi
if has_stage unseen; then
  run_stage "unseen articles from $REAL_UNSEEN_SOURCE (first pages, all to test) -> version $unseen_version"
  VERSION_NAME="$unseen_version" ./generate-data.sh "${cloud_args[@]}" --source "$REAL_UNSEEN_SOURCE" \
    --pages 1 --test_fraction 1 --group publisher
  VERSION_NAME="$unseen_version" ./preprocess.sh "${cloud_args[@]}"
fi

sample_records="$(gym_glob_escape "$(gym_version_path "$sample_version" PREPROC_PATH)")"
unseen_records="$(gym_glob_escape "$(gym_version_path "$unseen_version" PREPROC_PATH)")"
# per real source: its records (train and test globs) and its token data folder
real_train_args=() real_eval_args=() word_train="" word_eval=""
for real_source in "${real_sources[@]}"; do
  version="$(source_version "$real_source")"
  records="$(gym_glob_escape "$(gym_version_path "$version" PREPROC_PATH)")"
  data="$(gym_version_path "$version" DATA_PATH)"
  real_train_args+=(--train_data_paths "$records/train/*tfrecord*:$REAL_WEIGHT")
  real_eval_args+=(--eval_data_paths "$records/test/*tfrecord*")
  word_train+=" $(gym_glob_escape "$data/train")"
  word_eval+=" $(gym_glob_escape "$data/test")"
done
if has_stage train; then
  run_stage "train (preset $TRAINING_PRESET): sample x $REAL_SAMPLE_WEIGHT + each real source x $REAL_WEIGHT"
  # record flags given to train.sh replace the configuration's TRAIN_DATA_PATHS / EVAL_DATA_PATHS
  VERSION_NAME="$real_version" ./train.sh "${cloud_args[@]}" \
    --train_data_paths "$sample_records/train/*tfrecord*:$REAL_SAMPLE_WEIGHT" \
    "${real_train_args[@]}" "${real_eval_args[@]}" "${train_args[@]}"
fi
if has_stage eval; then
  model_path="$(gym_version_path "$real_version" TRAIN_MODEL_PATH)"
  run_stage "evaluate on the real test pages -> $model_path/eval"
  VERSION_NAME="$real_version" ./eval.sh "${cloud_args[@]}" \
    "${real_eval_args[@]}" --output_path "$model_path/eval"
  run_stage "evaluate on the unseen publishers' pages -> $model_path/eval-unseen"
  VERSION_NAME="$real_version" ./eval.sh "${cloud_args[@]}" \
    --eval_data_paths "$unseen_records/test/*tfrecord*" --output_path "$model_path/eval-unseen"
fi
if has_stage words; then
  export_path="$(gym_version_path "$real_version" EXPORT_MODEL_PATH)"
  if [ "$USE_CLOUD" != true ] && [ ! -e "$export_path/metadata.json" ]; then
    run_stage "export the model for the word model's painted classes -> $export_path"
    VERSION_NAME="$real_version" ./save-model.sh "${cloud_args[@]}"
  fi
  sample_tokens="$(gym_glob_escape "$(gym_version_path "$sample_version" DATA_PATH)")/train"
  run_stage "word model: sample corpus x $REAL_SAMPLE_WORD_WEIGHT + every real source's training articles"
  WORD_TRAIN_PATHS="$sample_tokens:$REAL_SAMPLE_WORD_WEIGHT$word_train" \
    WORD_EVAL_PATHS="${word_eval# }" \
    VERSION_NAME="$real_version" ./train-word-model.sh "${cloud_args[@]}"
fi
