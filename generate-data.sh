#!/usr/bin/env bash
# Generate training data (page PNG + label PNG) from PDF + JATS XML pairs into $DATA_PATH.
#   ./generate-data.sh [--cloud] [--source FOLDER_OR_FILE_LIST] [--pages 1] [--write_overlay] [...]
# The source defaults to GENERATE_SOURCE (.config), else ../shared/data/pdf-jats beside the
# repository. Run with --help for every option; the report goes to $DATA_PATH/generate-report/.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.generate.pipeline
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

source_args=()
if ! gym_has_arg --source; then
  source_path="$(gym_default_source)" || exit 2
  source_args=(--source "$source_path")
fi

cloud_args=()
if [ "$USE_CLOUD" = true ]; then
  cloud_args=(--cloud --job_name "generate-data-${JOB_ID}")
fi

gym_python -m "$GYM_MODULE" \
  "${source_args[@]}" \
  --output_path "$DATA_PATH" \
  --color_map "$COLOR_MAP_PATH" \
  --xml_mapping "$XML_MAPPING_PATH" \
  --dpi "$GENERATE_DPI" \
  --pages "$GENERATE_PAGES" \
  --test_fraction "$GENERATE_TEST_FRACTION" \
  "${cloud_args[@]}" \
  "${SCRIPT_ARGS[@]}"
