"""What the client says when a gs:// path is not there: the folder that is, and the near names."""

from __future__ import annotations

from sciencebeam_gym.storage import gcs_client, uploads
from tests.conftest import TEST_BUCKET
from tests.storage.factory import make_data_dir

GCS_PATH = f"gs://{TEST_BUCKET}/sciencebeam/pix2pix/v4"


def test_describe_missing_suggests_the_near_name(gcs, storage_client, tmp_path):
    data_dir = make_data_dir(tmp_path / "data", pages_per_split=1)
    uploads.upload([str(data_dir / "train")], f"{GCS_PATH}/data/", workers=2)
    message = gcs_client.describe_missing(storage_client, f"{GCS_PATH}/dta/train")
    assert f"{GCS_PATH}/ has data/" in message
    assert "did you mean data/" in message


def test_explain_no_match_for_a_glob(gcs, storage_client, tmp_path):
    data_dir = make_data_dir(tmp_path / "data", pages_per_split=1)
    uploads.upload([str(data_dir / "train")], f"{GCS_PATH}/data/", workers=2)
    typo = gcs_client.explain_no_match(f"{GCS_PATH}/dta/train/*/*/*-page1*.png", storage_client)
    assert "did you mean data/" in typo
    wrong_files = gcs_client.explain_no_match(f"{GCS_PATH}/data/train/doc0/page1/*.jpg")
    assert (
        wrong_files == f"{GCS_PATH}/data/train/doc0/page1/ has doc0-page1.annot.png, doc0-page1.png"
    )
    assert gcs_client.explain_no_match("/local/*.png") == ""
    assert "gs://no-such-bucket does not exist" in gcs_client.explain_no_match(
        "gs://no-such-bucket/x/*"
    )
