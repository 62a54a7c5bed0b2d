"""gs:// URLs checked before any request: typos named, bucket and object name split."""

from __future__ import annotations

import pytest

from sciencebeam_gym.storage import paths
from sciencebeam_gym.storage.errors import StorageError


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gs:/bucket/x", "typo"),
        ("gs//bucket/x", "typo"),
        ("s3://bucket/x", "not a Cloud Storage URL"),
        ("gs:///x", "no bucket name"),
        ("gs://My_Bucket/x", "not a valid bucket name"),
        ("gs://bucket//x", "empty folder name"),
    ],
)
def test_parse_gcs_url_rejects_typos_with_a_reason(url, message):
    with pytest.raises(StorageError, match=message):
        paths.parse_gcs_url(url)


def test_parse_gcs_url_splits_bucket_and_name():
    assert paths.parse_gcs_url("gs://my-bucket/a/b.txt") == ("my-bucket", "a/b.txt")
    assert paths.parse_gcs_url("gs://my-bucket/") == ("my-bucket", "")


def test_join_object_name_drops_empty_parts_and_doubled_slashes():
    assert paths.join_object_name("a/", "/b", "", "c/") == "a/b/c"
    assert paths.join_object_name("", "x.png") == "x.png"
