"""The pipeline on gs:// paths (inputs, colour map, output), against the Cloud Storage emulator."""

import pytest

from sciencebeam_gym import records
from sciencebeam_gym.color_map import default_color_map_path
from sciencebeam_gym.preprocess.pipeline import REPORT_NAME, main
from sciencebeam_gym.storage import fs
from tests.preprocess.conftest import draw_label, draw_page, png_bytes

BUCKET = "preprocess-test"


@pytest.fixture(scope="module")
def gcs():
    from sciencebeam_gym.cloud.emulator import gcs_emulator

    with gcs_emulator(buckets=[BUCKET]) as emulator:
        yield emulator


@pytest.mark.slow
def test_gs_inputs_and_outputs(gcs):
    root = f"gs://{BUCKET}/run"
    for i in range(3):
        folder = f"{root}/data/train/g/doc {i}"
        fs.write_bytes(f"{folder}/doc {i}-page1.png", png_bytes(draw_page(seed=i)))
        fs.write_bytes(f"{folder}/doc {i}-page1.annot.png", png_bytes(draw_label()))
    fs.write_bytes(f"{folder}/broken-page1.png", b"")
    fs.write_bytes(f"{folder}/broken-page1.annot.png", png_bytes(draw_label()))
    with open(default_color_map_path(), "rb") as f:
        fs.write_bytes(f"{root}/config/color_map.conf", f.read())
    fs.write_bytes(f"{root}/preproc/train/part-00000-of-00009.tfrecord.gz", b"old run")

    argv = ["--data_paths", f"{root}/data/train/*/*/*-page1*.png"]
    argv += [
        "--output_path",
        f"{root}/preproc/train",
        "--color_map",
        f"{root}/config/color_map.conf",
    ]
    # In-process worker: the emulator's anonymous credentials are set up in this process only.
    argv += ["--direct_num_workers", "1", "--max_error_rate", "0.5"]
    assert main(argv) == 0

    shards = fs.glob(f"{root}/preproc/train/*.tfrecord.gz")
    assert shards and all("of-00009" not in s for s in shards)
    written = [records.decode_example(r) for s in shards for r in records.read_tfrecord_file(s)]
    assert sorted(w[records.INPUT_URI][0].decode() for w in written) == [
        f"{root}/data/train/g/doc {i}/doc {i}-page1.png" for i in range(3)
    ]
    assert fs.exists(f"{root}/preproc/train/{REPORT_NAME}")
    assert not fs.glob(f"{root}/preproc/train/.preprocess-tmp-**")
