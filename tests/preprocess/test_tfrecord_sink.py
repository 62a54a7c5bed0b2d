import gzip

import apache_beam as beam
import pytest

from sciencebeam_gym import records
from sciencebeam_gym.preprocess.tfrecord_sink import WriteGzipTFRecords


@pytest.mark.parametrize("level", [0, 1, 9])
def test_shards_are_gzipped_tfrecords_holding_every_record(tmp_path, level):
    values = [f"record {i}".encode() * (i + 1) for i in range(20)]
    with beam.Pipeline() as p:
        (
            p
            | beam.Create(values)
            | WriteGzipTFRecords(str(tmp_path / "part"), num_shards=3, level=level)
        )
    shards = sorted(tmp_path.glob("part-*-of-00003.tfrecord.gz"))
    assert len(shards) == 3
    read = []
    for shard in shards:
        data = shard.read_bytes()
        assert data[:2] == b"\x1f\x8b"  # gzip
        assert list(records.iter_framed_records(gzip.decompress(data))) == list(
            records.read_tfrecord_file(str(shard))
        )
        read.extend(records.read_tfrecord_file(str(shard)))
    assert sorted(read) == sorted(values)
