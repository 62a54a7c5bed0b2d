#!/usr/bin/env bash
# Copy DIR/train and DIR/test (default $LOCAL_DATA_PATH) to $GCS_DATA_PATH/.
#   ./upload-data.sh [DIR] [--workers N]
# Always works on the cloud paths (no --cloud needed). Exits 2 when DIR/train or DIR/test is
# missing. Files already there with the same checksum are skipped, so re-running an interrupted
# upload only sends what is missing.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.cloud.upload
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" --cloud "$@"

data_dir="$LOCAL_DATA_PATH"
extra_args=("${SCRIPT_ARGS[@]}")
if [ "${#extra_args[@]}" -gt 0 ] && [ "${extra_args[0]#-}" = "${extra_args[0]}" ]; then
  data_dir="${extra_args[0]}"
  extra_args=("${extra_args[@]:1}")
fi

gym_python -m "$GYM_MODULE" upload-data \
  "$data_dir" \
  "$GCS_DATA_PATH/" \
  "${extra_args[@]}"
