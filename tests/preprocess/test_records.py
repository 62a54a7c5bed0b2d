import gzip

import pytest

from sciencebeam_gym import records

FEATURES = {
    records.INPUT_URI: "gs://b/dät a/x-page1.png",
    records.ANNOTATION_URI: "gs://b/dät a/x-page1.annot.png",
    records.INPUT_IMAGE: b"\x89PNG" + bytes(range(256)) * 3,
    records.ANNOTATION_IMAGE: b"",
}


def test_example_round_trip():
    decoded = records.decode_example(records.encode_example(FEATURES))
    assert decoded == {
        key: [value.encode("utf-8") if isinstance(value, str) else value]
        for key, value in FEATURES.items()
    }


def test_framed_records_round_trip_and_detect_corruption():
    frames = records.frame_record(b"first") + records.frame_record(b"second" * 100)
    assert list(records.iter_framed_records(frames)) == [b"first", b"second" * 100]
    corrupt = bytearray(frames)
    corrupt[14] ^= 0xFF
    with pytest.raises(records.RecordError, match="corrupt"):
        list(records.iter_framed_records(bytes(corrupt)))
    with pytest.raises(records.RecordError, match="truncated"):
        list(records.iter_framed_records(frames[:-3]))


def test_read_tfrecord_file_gunzips(tmp_path):
    path = tmp_path / "part-00000-of-00001.tfrecord.gz"
    path.write_bytes(gzip.compress(records.frame_record(b"a") + records.frame_record(b"b")))
    assert list(records.read_tfrecord_file(str(path))) == [b"a", b"b"]


@pytest.mark.slow
def test_records_are_interchangeable_with_tensorflow(tmp_path):
    tf = pytest.importorskip("tensorflow")
    path = tmp_path / "ours.tfrecord.gz"
    path.write_bytes(gzip.compress(records.frame_record(records.encode_example(FEATURES))))
    spec = {key: tf.io.FixedLenFeature([], tf.string) for key in records.FEATURE_KEYS}
    dataset = tf.data.TFRecordDataset([str(path)], compression_type="GZIP")
    parsed = [tf.io.parse_single_example(r, spec) for r in dataset]
    assert len(parsed) == 1
    for key, value in FEATURES.items():
        expected = value.encode("utf-8") if isinstance(value, str) else value
        assert parsed[0][key].numpy() == expected

    # And the other way: TensorFlow's own Example and writer, read by our decoder.
    theirs = tmp_path / "theirs.tfrecord.gz"
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "input_uri": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"u"])),
                "count": tf.train.Feature(int64_list=tf.train.Int64List(value=[3, -2])),
                "score": tf.train.Feature(float_list=tf.train.FloatList(value=[0.5])),
            }
        )
    )
    with tf.io.TFRecordWriter(str(theirs), options="GZIP") as writer:
        writer.write(example.SerializeToString())
    [record] = records.read_tfrecord_file(str(theirs))
    assert records.decode_example(record) == {"input_uri": [b"u"], "count": [3, -2], "score": [0.5]}
