"""The model to predict with: an export of save-model.sh, or a training folder's checkpoint.

Both answer `predict(pages)` for (N, H, W, 3) uint8 pages at the model's size and carry the
model's `info` (ModelInfo) and `source` (shown in the log).
"""

from __future__ import annotations

import json
import shutil
import tempfile

import numpy as np

from sciencebeam_gym.color_map import load_color_map
from sciencebeam_gym.serving.errors import PredictError
from sciencebeam_gym.serving.metadata import METADATA_FILENAME, ModelInfo, check_same_classes
from sciencebeam_gym.storage import fs


class SavedModelPredictor:
    """An export of save-model.sh; `predict` runs its `serving_default` signature."""

    def __init__(self, path: str):
        import tensorflow as tf

        if not fs.exists(fs.join(path, METADATA_FILENAME)):
            raise PredictError(
                f"no exported model at {path} (no {METADATA_FILENAME}; --saved_model / "
                "EXPORT_MODEL_PATH): run ./save-model.sh first, or predict from the checkpoint "
                "with --model_path"
            )
        metadata_path = fs.join(path, METADATA_FILENAME)
        try:
            metadata = json.loads(fs.read_bytes(metadata_path).decode("utf-8"))
        except ValueError as error:
            raise PredictError(f"{metadata_path}: not valid JSON ({error})") from error
        self.info = ModelInfo.from_metadata(metadata, source=metadata_path)
        self.source = path
        self._temp = None
        local = path
        if fs.is_remote(path):
            self._temp = tempfile.mkdtemp(prefix="sciencebeam-gym-saved-model-")
            local = download_folder(path, self._temp)
        try:
            self._model = tf.saved_model.load(local)
            self._serve = self._model.signatures["serving_default"]
        except (OSError, ValueError, KeyError, tf.errors.OpError) as error:
            raise PredictError(
                f"{path}: the SavedModel cannot be loaded ({error}); export it again with "
                "./save-model.sh"
            ) from error
        finally:
            if self._temp:
                shutil.rmtree(self._temp, ignore_errors=True)

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        import tensorflow as tf

        outputs = self._serve(images=tf.constant(images, dtype=tf.uint8))
        return {key: value.numpy() for key, value in outputs.items()}


class CheckpointPredictor:
    """The latest checkpoint of a training folder, with the same processing as an export."""

    def __init__(self, model_path: str):
        import tensorflow as tf

        from sciencebeam_gym.serving.export import ExportError, load_checkpoint
        from sciencebeam_gym.serving.inference import PagePredictor

        try:
            generator, config, step, checkpoint = load_checkpoint(model_path)
        except ExportError as error:
            raise PredictError(str(error)) from error
        self.info = ModelInfo.from_config(config, step=step, source_checkpoint=checkpoint)
        self.source = checkpoint
        self._module = PagePredictor(generator, self.info)
        self._tf = tf

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        outputs = self._module.predict_images(self._tf.constant(images, dtype=self._tf.uint8))
        return {key: value.numpy() for key, value in outputs.items()}


def download_folder(remote: str, local: str) -> str:
    """Copy every file under a remote folder to a local folder; the local folder."""
    fs.copy_tree(remote, local)
    return local


def load_predictor(
    saved_model: str = "", export_path: str = "", model_path: str = "", color_map: str = ""
):
    """The model to predict with (see the module docstring), checked against the colour map."""
    from sciencebeam_gym.serving.export import is_complete_export

    if saved_model:
        predictor = SavedModelPredictor(saved_model)
    elif export_path and is_complete_export(export_path):
        predictor = SavedModelPredictor(export_path)
    elif model_path:
        try:
            predictor = CheckpointPredictor(model_path)
        except PredictError as error:
            if not export_path:
                raise
            raise PredictError(
                f"{error}; nor is there an export at {export_path} (EXPORT_MODEL_PATH, "
                "./save-model.sh)"
            ) from error
    else:
        raise PredictError(
            "no model: pass --saved_model (an export of ./save-model.sh) or --model_path "
            f"(a training folder){f'; nothing exported at {export_path}' if export_path else ''}"
        )
    if color_map:
        check_same_classes(predictor.info.color_map, load_color_map(color_map), predictor.source)
    return predictor
