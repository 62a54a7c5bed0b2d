"""Preprocessing: page + annotation PNG pairs -> gzipped TFRecords of tf.train.Example.

`pairing` pairs files by name, `images` does the image work as pure functions, `records` writes
and reads the Example protobuf and TFRecord frames, `pipeline` composes them with Apache Beam,
and `inspect` looks at the result.
"""
