#!/usr/bin/env bash
# Configuration for every script: defaults, then .config overrides, then the --cloud switch and
# the derived paths. Source it to inspect the configuration:
#   source prepare-shell.sh [--cloud]; echo $DATA_PATH
# Scripts source it with their own arguments; it sets USE_CLOUD and leaves the other arguments
# in the array SCRIPT_ARGS. Nothing here runs a job.
# A script given --help (or -h) stops here: its usage (the comment at its top) is printed, then
# the flags of the module it names in GYM_MODULE (set before sourcing this file), and nothing
# else happens: no configuration is read, nothing is written.

GYM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GYM_ROOT

# The comment at the top of a script (after the #! line), without its '# ': its usage.
gym_usage() {
  sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$1"
}

# True when the arguments ask for help.
gym_wants_help() {
  local arg
  for arg in "$@"; do
    case "$arg" in -h | --help) return 0 ;; esac
  done
  return 1
}

# Sourced by a script (not by a person's shell, which must survive it) that was asked for help.
if [ "${BASH_SOURCE[1]:-}" = "$0" ] && gym_wants_help "$@"; then
  gym_usage "$0"
  if [ -n "${GYM_MODULE:-}" ] && [ -x "$GYM_ROOT/.venv/bin/python" ]; then
    echo
    "$GYM_ROOT/.venv/bin/python" -m "$GYM_MODULE" --help
  fi
  exit 0
fi

# --- defaults (every one can be overridden in .config or the environment) -----------------------
export SUB_PROJECT_NAME="${SUB_PROJECT_NAME:-sciencebeam}"
export MODEL_NAME="${MODEL_NAME:-pix2pix}"
export VERSION_NAME="${VERSION_NAME:-v4}"
export TRAINING_SUFFIX="${TRAINING_SUFFIX:--default}"
export TRAINING_ARGS="${TRAINING_ARGS:-}"
export TRAINING_PRESET="${TRAINING_PRESET:-}"
export TRAIN_DATA_PATHS="${TRAIN_DATA_PATHS:-}"
export EVAL_DATA_PATHS="${EVAL_DATA_PATHS:-}"
export LOCAL_PATH_ROOT="${LOCAL_PATH_ROOT:-./.models}"
export COLOR_MAP_FILENAME="${COLOR_MAP_FILENAME:-color_map.conf}"
export USE_SEPARATE_CHANNELS="${USE_SEPARATE_CHANNELS:-true}"
# Three values are typed here and in Python, so that the configuration prints (and scripts pass)
# them without starting Python: the image size (records.DEFAULT_IMAGE_SIZE), the render dpi
# (document/pdf.py DEFAULT_DPI) and the test fraction (generate/splits.py DEFAULT_TEST_FRACTION).
# tests/test_facts.py checks that the two agree (`python -m sciencebeam_gym.facts` lists them).
export IMAGE_WIDTH="${IMAGE_WIDTH:-256}"
export IMAGE_HEIGHT="${IMAGE_HEIGHT:-256}"
export NUM_WORKERS="${NUM_WORKERS:-}"
export REGION="${REGION:-us-central1}"
export MAX_NUM_WORKERS="${MAX_NUM_WORKERS:-10}"
export MACHINE_TYPE="${MACHINE_TYPE:-n1-standard-8}"
export ACCELERATOR_TYPE="${ACCELERATOR_TYPE:-NVIDIA_TESLA_T4}"
export ACCELERATOR_COUNT="${ACCELERATOR_COUNT:-1}"
export TRAINING_REPLICA_COUNT="${TRAINING_REPLICA_COUNT:-1}"
export TENSORBOARD_PORT="${TENSORBOARD_PORT:-6006}"
export SAMPLE_TRAIN_PAGES="${SAMPLE_TRAIN_PAGES:-400}"
export SAMPLE_TEST_PAGES="${SAMPLE_TEST_PAGES:-20}"
export SAMPLE_SEED="${SAMPLE_SEED:-1}"
export GENERATE_SOURCE="${GENERATE_SOURCE:-}"
export GENERATE_DPI="${GENERATE_DPI:-100}"  # also DEFAULT_DPI in Python: see IMAGE_WIDTH above
export GENERATE_PAGES="${GENERATE_PAGES:-1}"
export GENERATE_TEST_FRACTION="${GENERATE_TEST_FRACTION:-0.2}"  # also in Python: see above
export WORD_TRAIN_PATHS="${WORD_TRAIN_PATHS:-}"
export WORD_EVAL_PATHS="${WORD_EVAL_PATHS:-}"
export WORD_TRAINING_ARGS="${WORD_TRAINING_ARGS:-}"
export WORD_MODEL_PATH="${WORD_MODEL_PATH:-}"
export USE_CLOUD=false

# --- .config overrides ------------------------------------------------------------------------
GYM_CONFIG_FILE="${GYM_CONFIG_FILE:-$GYM_ROOT/.config}"
if [ -f "$GYM_CONFIG_FILE" ]; then
  if ! bash -n "$GYM_CONFIG_FILE" 2>/tmp/.gym-config-check.$$; then
    echo "error: $GYM_CONFIG_FILE does not parse as a bash file:" >&2
    sed 's/^/  /' /tmp/.gym-config-check.$$ >&2
    rm -f /tmp/.gym-config-check.$$
    echo "  fix that line (see .config.example for the format)" >&2
    return 2 2>/dev/null || exit 2
  fi
  rm -f /tmp/.gym-config-check.$$
  # shellcheck disable=SC1090
  source "$GYM_CONFIG_FILE" || { echo "error: $GYM_CONFIG_FILE failed while loading" >&2; return 2 2>/dev/null || exit 2; }
fi

# --- arguments: --cloud switches every path to the bucket; the rest stays for the script --------
SCRIPT_ARGS=()
for arg in "$@"; do
  if [ "$arg" = "--cloud" ]; then
    USE_CLOUD=true
  else
    SCRIPT_ARGS+=("$arg")
  fi
done
export USE_CLOUD

# --- project and bucket ------------------------------------------------------------------------
# gcloud is asked only for cloud work: it takes seconds to answer, and local runs need no project.
if [ "$USE_CLOUD" = true ] && [ -z "${PROJECT:-}" ] && command -v gcloud >/dev/null 2>&1; then
  PROJECT="$(gcloud config list project --format "value(core.project)" 2>/dev/null || true)"
fi
export PROJECT="${PROJECT:-}"
if [ "$USE_CLOUD" = true ] && [ -z "$PROJECT" ]; then
  echo "error: --cloud needs a Google Cloud project, and none is set." >&2
  echo "  set PROJECT in .config (export PROJECT=my-project), in the environment," >&2
  echo "  or with: gcloud config set project my-project" >&2
  return 2 2>/dev/null || exit 2
fi
export BUCKET="${BUCKET:-gs://${PROJECT:-<project>}-ml}"

# --- job id (kept in .job-id by cloud jobs, as the original did) --------------------------------
if [ -z "${JOB_ID:-}" ]; then
  if [ -s "$GYM_ROOT/.job-id" ]; then
    JOB_ID="$(cat "$GYM_ROOT/.job-id")"
  else
    JOB_ID="${SUB_PROJECT_NAME}_${USER:-$(id -un 2>/dev/null || echo user)}_${MODEL_NAME}_$(date +%Y%m%d_%H%M%S)"
  fi
fi
export JOB_ID

# --- derived paths -----------------------------------------------------------------------------
# The paths of the model version VERSION_NAME (a function, so that gym_version_path can derive
# another version's). Relative local paths are taken from the repository root, so scripts work
# from any directory.
gym_derive_paths() {
  case "$LOCAL_PATH_ROOT" in
    /*) GYM_LOCAL_ROOT="$LOCAL_PATH_ROOT" ;;
    *) GYM_LOCAL_ROOT="$GYM_ROOT/${LOCAL_PATH_ROOT#./}" ;;
  esac
  export GCS_PATH="${BUCKET}/${SUB_PROJECT_NAME}/${MODEL_NAME}/${VERSION_NAME}"
  export LOCAL_MODEL_PATH="${GYM_LOCAL_ROOT}/${MODEL_NAME}/${VERSION_NAME}"

  export GCS_DATA_PATH="${GCS_PATH}/data"
  export GCS_CONFIG_PATH="${GCS_PATH}/config"
  export GCS_PREPROC_PATH="${GCS_PATH}/preproc"
  export GCS_TRAIN_MODEL_PATH="${GCS_PATH}${TRAINING_SUFFIX}/training"
  export GCS_EXPORT_MODEL_PATH="${GCS_PATH}${TRAINING_SUFFIX}/export"

  export LOCAL_DATA_PATH="${LOCAL_MODEL_PATH}/data"
  export LOCAL_CONFIG_PATH="${GYM_ROOT}"
  export LOCAL_PREPROC_PATH="${LOCAL_MODEL_PATH}/preproc"
  export LOCAL_TRAIN_MODEL_PATH="${LOCAL_MODEL_PATH}${TRAINING_SUFFIX}/training"
  export LOCAL_EXPORT_MODEL_PATH="${LOCAL_MODEL_PATH}${TRAINING_SUFFIX}/export"

  if [ "$USE_CLOUD" = true ]; then
    export DATA_PATH="$GCS_DATA_PATH"
    export CONFIG_PATH="$GCS_CONFIG_PATH"
    export PREPROC_PATH="$GCS_PREPROC_PATH"
    export TRAIN_MODEL_PATH="$GCS_TRAIN_MODEL_PATH"
    export EXPORT_MODEL_PATH="$GCS_EXPORT_MODEL_PATH"
  else
    export DATA_PATH="$LOCAL_DATA_PATH"
    export CONFIG_PATH="$LOCAL_CONFIG_PATH"
    export PREPROC_PATH="$LOCAL_PREPROC_PATH"
    export TRAIN_MODEL_PATH="$LOCAL_TRAIN_MODEL_PATH"
    export EXPORT_MODEL_PATH="$LOCAL_EXPORT_MODEL_PATH"
  fi
  export COLOR_MAP_PATH="${CONFIG_PATH}/${COLOR_MAP_FILENAME}"
  # the word model lies beside the export (extract.sh looks for it there) unless WORD_MODEL_PATH
  # names another folder
  export WORD_MODEL_PATH="${GYM_WORD_MODEL_SETTING:-$(dirname "$EXPORT_MODEL_PATH")/word-model}"
}
GYM_WORD_MODEL_SETTING="$WORD_MODEL_PATH"
gym_derive_paths
export XML_MAPPING_PATH="${XML_MAPPING_PATH:-$GYM_ROOT/xml-mapping.conf}"

# A path of another version of the model, printed: gym_version_path VERSION PREPROC_PATH
# (the real-data recipe keeps its sample, real and unseen data side by side as versions).
gym_version_path() {
  (
    VERSION_NAME="$1"
    gym_derive_paths
    printf '%s' "${!2}"
  )
}

# --- the Python environment -------------------------------------------------------------------
if [ -x "$GYM_ROOT/.venv/bin/python" ]; then
  GYM_PYTHON="$GYM_ROOT/.venv/bin/python"
else
  GYM_PYTHON=""
fi
export GYM_PYTHON

# Typos in .config would do nothing, silently: name what no script reads (any python3 will do).
if [ -f "$GYM_CONFIG_FILE" ]; then
  gym_checker="${GYM_PYTHON:-$(command -v python3 || true)}"
  if [ -n "$gym_checker" ]; then
    "$gym_checker" -I -S "$GYM_ROOT/sciencebeam_gym/shell_config.py" \
      "$GYM_CONFIG_FILE" "$GYM_ROOT/prepare-shell.sh" "$GYM_ROOT/.config.example" || true
  fi
  unset gym_checker
fi

# A path with glob characters (e.g. a LOCAL_PATH_ROOT with "[1]") as a glob that matches only
# itself: each such character becomes a one-character class, the only escape fnmatch-style globs
# (Python's, Beam's, ours) have.
gym_glob_escape() {
  local path="$1"
  path="${path//\[/[[]}"
  path="${path//\*/[*]}"
  path="${path//\?/[?]}"
  printf '%s' "$path"
}

# Run a Python module of the toolkit in the project's environment.
gym_python() {
  if [ -z "$GYM_PYTHON" ]; then
    echo "error: the toolkit is not installed (no $GYM_ROOT/.venv)." >&2
    echo "  run ./quickstart.sh once, or: python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'" >&2
    return 3
  fi
  "$GYM_PYTHON" "$@"
}

# Run a toolkit module here, or with --cloud as a Vertex AI custom job: gym_run_module MODULE ARGS...
gym_run_module() {
  local module="$1"
  shift
  if [ "$USE_CLOUD" = true ]; then
    gym_python -m sciencebeam_gym.cloud.vertex_job --module "$module" "$@"
  else
    gym_python -m "$module" "$@"
  fi
}

# The words of a setting written as on a command line, into the array GYM_WORDS: quotes group
# words ("/my data/*tfrecord*":2 or '--class_weights=/my dir/w.json'), nothing is expanded (no
# globs, no variables): gym_words SETTING_NAME "$VALUE". Exit status 2, naming the setting, when
# a quote is not closed.
gym_words() {
  local name="$1" value="$2" words reason
  GYM_WORDS=()
  [ -n "${value//[[:space:]]/}" ] || return 0
  if ! words="$(xargs printf '%s\n' <<< "$value" 2>/dev/null)"; then
    # xargs's reason, asked again with a command that prints nothing (printf's words and
    # xargs's message would interleave)
    reason="$(xargs true <<< "$value" 2>&1 || true)"
    reason="${reason##*xargs: }"
    echo "error: $name cannot be split into words: ${reason%%;*} ($name=$value)" >&2
    echo "  close each quote, or write a path with spaces in quotes (see .config.example)" >&2
    return 2
  fi
  mapfile -t GYM_WORDS <<< "$words"
}

# Append FLAG ENTRY to the array ARRAY for each entry of the list LIST (words as gym_words
# reads them), or FLAG DEFAULT when the list is empty:
#   gym_add_repeated ARGS --train_data_paths TRAIN_DATA_PATHS "$default"
gym_add_repeated() {
  local -n gym_into="$1"
  local flag="$2" name="$3" default="$4" entry
  gym_words "$name" "${!name:-}" || return
  if [ "${#GYM_WORDS[@]}" -eq 0 ]; then
    GYM_WORDS=("$default")
  fi
  for entry in "${GYM_WORDS[@]}"; do
    gym_into+=("$flag" "$entry")
  done
}

# True when the script was given the flag, in snake or kebab case: gym_has_arg --source
# (matches --source and --source=...; gym_has_arg --train_data_paths also --train-data-paths).
gym_has_arg() {
  local name="$1" kebab arg
  kebab="--$(printf '%s' "${name#--}" | tr _ -)"
  for arg in "${SCRIPT_ARGS[@]}"; do
    case "$arg" in "$name" | "$name"=* | "$kebab" | "$kebab"=*) return 0 ;; esac
  done
  return 1
}

# The default PDF + JATS XML source, printed: GENERATE_SOURCE, else ../shared/data/pdf-jats
# beside the repository; exit status 2, with advice, when there is neither.
gym_default_source() {
  local source_path="${GENERATE_SOURCE:-}"
  if [ -z "$source_path" ] && [ -d "$GYM_ROOT/../shared/data/pdf-jats" ]; then
    source_path="$(cd "$GYM_ROOT/../shared/data/pdf-jats" && pwd)"
  fi
  if [ -z "$source_path" ]; then
    echo "error: no source of PDF + JATS XML pairs." >&2
    echo "  pass --source FOLDER_OR_FILE_LIST, or set GENERATE_SOURCE in .config" >&2
    echo "  (e.g. export GENERATE_SOURCE=/data/pdf-jats or gs://bucket/pdf-jats/file-list.tsv)" >&2
    return 2
  fi
  echo "$source_path"
}

# Print the configuration in a readable way (on stderr, so scripts' output stays clean).
gym_print_config() {
  {
    echo "ScienceBeam Gym configuration (defaults <- ${GYM_CONFIG_FILE/#$GYM_ROOT\//}$([ -f "$GYM_CONFIG_FILE" ] || echo ' (none)') <- arguments)"
    printf '  %-22s %s\n' \
      USE_CLOUD "$USE_CLOUD" \
      PROJECT "${PROJECT:-(not set)}" \
      BUCKET "$BUCKET" \
      JOB_ID "$JOB_ID" \
      MODEL_NAME "$MODEL_NAME" \
      VERSION_NAME "$VERSION_NAME" \
      TRAINING_SUFFIX "$TRAINING_SUFFIX" \
      TRAINING_PRESET "${TRAINING_PRESET:-(none)}" \
      TRAINING_ARGS "${TRAINING_ARGS:-(none)}" \
      USE_SEPARATE_CHANNELS "$USE_SEPARATE_CHANNELS" \
      IMAGE_SIZE "${IMAGE_WIDTH}x${IMAGE_HEIGHT}" \
      DATA_PATH "$DATA_PATH" \
      CONFIG_PATH "$CONFIG_PATH" \
      COLOR_MAP_PATH "$COLOR_MAP_PATH" \
      PREPROC_PATH "$PREPROC_PATH" \
      TRAIN_DATA_PATHS "${TRAIN_DATA_PATHS:-(PREPROC_PATH/train)}" \
      EVAL_DATA_PATHS "${EVAL_DATA_PATHS:-(PREPROC_PATH/test)}" \
      TRAIN_MODEL_PATH "$TRAIN_MODEL_PATH" \
      EXPORT_MODEL_PATH "$EXPORT_MODEL_PATH" \
      WORD_MODEL_PATH "$WORD_MODEL_PATH"
  } >&2
}

if [ "${GYM_QUIET:-false}" != true ]; then
  gym_print_config
fi
