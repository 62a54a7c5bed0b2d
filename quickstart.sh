#!/usr/bin/env bash
# The first command: set everything up and run the whole pipeline on the embedded sample corpus.
#   ./quickstart.sh [--cloud]
# Stages: install (.venv) -> sample corpus (pages, PDFs and token files) -> preprocess
#         (TFRecords) -> train (quick preset) -> evaluate -> export the model -> train the word
#         model (a CRF over the PDFs' words, reading the exported model's classes) -> predict a
#         test page. extract.sh then labels words with the word model beside the export.
# Each stage prints where its output is. TRAINING_PRESET defaults to "quick" here; a .config or
# the environment can choose another.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
# the configuration first (it answers --help and stops on a wrong setting before any install)
export TRAINING_PRESET="${TRAINING_PRESET:-quick}"
export GYM_QUIET=true
source "$root/prepare-shell.sh" "$@"

started=$(date +%s)
stage_started=$started
stage() {
  echo
  echo "==> [$(date +%H:%M:%S)] $*"
  stage_started=$(date +%s)
}
stage_done() {
  echo "    done in $(( $(date +%s) - stage_started )) s"
}

stage "1/8 install: .venv with the toolkit and its dependencies"
./install.sh
stage_done
gym_print_config

stage "2/8 sample corpus: synthetic article first pages (PNG, PDF, words) -> $DATA_PATH"
./generate-sample-data.sh --format pdf "$@"
stage_done

stage "3/8 preprocess: resize, colour-map and write TFRecords -> $PREPROC_PATH"
./preprocess.sh "$@"
stage_done

stage "4/8 train: preset '$TRAINING_PRESET' -> $TRAIN_MODEL_PATH"
./train.sh "$@"
stage_done

stage "5/8 evaluate the latest checkpoint on the test split -> $TRAIN_MODEL_PATH/eval"
./eval.sh "$@"
stage_done

stage "6/8 export the SavedModel -> $EXPORT_MODEL_PATH"
./save-model.sh "$@"
stage_done

stage "7/8 word model: a CRF over the sample PDFs' words, with the model's classes -> $WORD_MODEL_PATH"
./train-word-model.sh "$@"
stage_done

stage "8/8 predict one test page"
if [ "$USE_CLOUD" = true ]; then
  echo "    (skipped with --cloud: predict.sh runs locally on a page of yours)"
else
  page="$(find "$DATA_PATH/test" -name '*-page1.png' ! -name '*annot*' | sort | head -n 1)"
  prediction_dir="$GYM_ROOT/.temp/quickstart"
  # the quick start's own scratch folder, made anew: predict.sh refuses to overwrite files it
  # cannot tell are its own (those of an earlier version carry no output mark)
  rm -rf "$prediction_dir"
  mkdir -p "$prediction_dir"
  prediction="$prediction_dir/$(basename "${page%.png}").out.png"
  ./predict.sh "$page" "$prediction" --overlay --boxes
fi
stage_done

echo
echo "Quick start finished in $(( $(date +%s) - started )) s. Where things are:"
echo "  sample pages + annotations  $DATA_PATH/{train,test}"
echo "  TFRecords                   $PREPROC_PATH/{train,test}"
echo "  checkpoints + events        $TRAIN_MODEL_PATH"
echo "  evaluation                  $TRAIN_MODEL_PATH/eval/metrics.json (+ confusion matrix PNG)"
echo "  SavedModel                  $EXPORT_MODEL_PATH"
echo "  word model (extract.sh)     $WORD_MODEL_PATH (figures in its word-model.json)"
if [ "$USE_CLOUD" != true ]; then
  echo "  prediction of a test page   ${prediction%.png}.png (overlay: ${prediction%.out.png}.overlay.png)"
fi
echo "Watch training in TensorBoard: ./tensorboard.sh   (then open http://localhost:$TENSORBOARD_PORT)"
