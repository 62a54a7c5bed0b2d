#!/usr/bin/env bash
# Serve the trained model over HTTP: PDF -> JATS / TEI / JSON, GROBID's paths, painted pages,
# and a page at / to look at them.
#   ./serve.sh [--port 8080] [--host 127.0.0.1] [--model EXPORT] [--workers N] [--timeout 60]
#              [--max_bytes 50MB] [--max_pages 200] [--queue N]
# Model: --model EXPORT if given, else the export in $EXPORT_MODEL_PATH (./save-model.sh).
# Loopback only unless --host says otherwise: the service has no authentication. See doc/serve.md.
set -euo pipefail
GYM_MODULE=sciencebeam_gym.service.cli
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

gym_python -m "$GYM_MODULE" \
  --export_path "$EXPORT_MODEL_PATH" \
  "${SCRIPT_ARGS[@]}"
