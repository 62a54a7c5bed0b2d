"""gs:// exports and predictions, against a local Cloud Storage emulator."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from sciencebeam_gym.serving import export, predict
from sciencebeam_gym.serving.metadata import METADATA_FILENAME
from sciencebeam_gym.storage import fs

BUCKET = "gym-export-test"


@pytest.fixture(scope="module")
def gcs():
    from sciencebeam_gym.cloud.emulator import gcs_emulator

    with gcs_emulator(buckets=[BUCKET]) as emulator:
        yield emulator


@pytest.mark.slow
def test_export_to_and_predict_from_a_bucket(gcs, trained_dir, page_file, capsys):
    remote = f"gs://{BUCKET}/sciencebeam/pix2pix/v4-default/export"
    fs.write_text(f"{remote}/stale.txt", "from an earlier export")
    assert export.main(["--model_path", str(trained_dir), "--export_path", remote]) == 0
    assert export.is_complete_export(remote)
    assert not fs.exists(f"{remote}/stale.txt")
    metadata = json.loads(fs.read_bytes(f"{remote}/{METADATA_FILENAME}"))
    assert metadata["training_step"] == 7

    output = f"gs://{BUCKET}/predictions/page.out.png"
    assert predict.main([str(page_file), output, "--saved_model", remote, "--boxes"]) == 0
    painted = Image.open(io.BytesIO(fs.read_bytes(output)))
    assert painted.size == Image.open(page_file).size
    assert fs.exists(f"gs://{BUCKET}/predictions/page.boxes.json")

    # without its metadata an export is incomplete and is not used
    fs.delete([f"{remote}/{METADATA_FILENAME}"])
    capsys.readouterr()
    assert predict.main([str(page_file), "--saved_model", remote]) == 2
    assert "no exported model" in capsys.readouterr().err
