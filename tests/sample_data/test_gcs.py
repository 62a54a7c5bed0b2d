"""The corpus written to gs:// (a local Cloud Storage emulator), and replaced by a smaller one."""

import io

import numpy as np
import pytest
from PIL import Image

from sciencebeam_gym.color_map import default_color_map_path
from sciencebeam_gym.sample_data.cli import generate_corpus
from sciencebeam_gym.storage import fs

pytest.importorskip("gcp_storage_emulator")


@pytest.mark.slow
def test_the_corpus_goes_to_cloud_storage_and_is_replaced_cleanly():
    from sciencebeam_gym.cloud.emulator import gcs_emulator

    with gcs_emulator(buckets=["sample-data-bucket"]):
        out = "gs://sample-data-bucket/data"
        color_map = default_color_map_path()
        generate_corpus(out, color_map, 3, 1, seed=2, workers=2, log=lambda message: None)
        train = fs.glob(f"{out}/train/*/*/*-page1*.png")
        assert len(train) == 6
        assert len(fs.glob(f"{out}/test/*/*/*-page1*.png")) == 2
        page = Image.open(io.BytesIO(fs.read_bytes(train[1])))
        assert page.mode == "RGB" and 1100 <= page.height <= 1700
        label = np.asarray(Image.open(io.BytesIO(fs.read_bytes(train[0]))))
        assert label.ndim == 2 and label.max() > 0

        generate_corpus(out, color_map, 1, 1, seed=2, workers=1, log=lambda message: None)
        assert len(fs.glob(f"{out}/train/*/*/*-page1*.png")) == 2
        assert not fs.glob(f"{out}/train/*/*/*.tmp-*")
