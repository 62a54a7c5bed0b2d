#!/usr/bin/env bash
# Watch training in TensorBoard: losses, learning rate, evaluation metrics, images.
#   ./tensorboard.sh [--cloud] [--port N] [...]
# Serves $TRAIN_MODEL_PATH on http://localhost:$TENSORBOARD_PORT (bound to localhost only).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare-shell.sh" "$@"

if [ -x "$GYM_ROOT/.venv/bin/tensorboard" ]; then
  TENSORBOARD="$GYM_ROOT/.venv/bin/tensorboard"
else
  TENSORBOARD="tensorboard"
fi
echo "TensorBoard on http://localhost:$TENSORBOARD_PORT for $TRAIN_MODEL_PATH" >&2
exec "$TENSORBOARD" --logdir "$TRAIN_MODEL_PATH" --host localhost --port "$TENSORBOARD_PORT" \
  "${SCRIPT_ARGS[@]}"
