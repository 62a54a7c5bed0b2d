#!/usr/bin/env bash
# Copy the colour map ($GYM_ROOT/$COLOR_MAP_FILENAME) to $GCS_CONFIG_PATH/, where --cloud runs read it.
#   ./upload-config.sh [--workers N]
# Always works on the cloud paths (no --cloud needed); files already there unchanged are skipped.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.cloud.upload
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" --cloud "$@"

gym_python -m "$GYM_MODULE" upload \
  "$GYM_ROOT/$COLOR_MAP_FILENAME" \
  "$GCS_CONFIG_PATH/" \
  "${SCRIPT_ARGS[@]}"
