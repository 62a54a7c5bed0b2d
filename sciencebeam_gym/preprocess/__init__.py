"""Preprocessing: page + annotation PNG pairs -> gzipped TFRecords of tf.train.Example.

`pairing` pairs files by name, `images` does the image work as pure functions, `records` writes
and reads the Example protobuf and TFRecord frames, `pipeline` composes them with Apache Beam
for one split, `splits` runs it for each split of a data folder (`python -m
sciencebeam_gym.preprocess`, preprocess.sh), and `inspect_records` looks at the result.
"""
