import gzip

import numpy as np
import pytest
import tensorflow as tf

from sciencebeam_gym import records
from sciencebeam_gym.trainer import data
from sciencebeam_gym.trainer.data import DataError
from tests.trainer import fixtures
from tests.trainer.conftest import IMAGE_SIZE


def numpy_channels(annotation: np.ndarray, colors: np.ndarray) -> np.ndarray:
    return np.stack([np.all(annotation == color, axis=-1) for color in colors], axis=-1).astype(
        np.float32
    )


def test_decode_and_channel_separation_exact(tmp_path, tiny_data):
    colors = tiny_data["colors"]
    path = tmp_path / "a.tfrecord.gz"
    pairs = fixtures.write_records(path, 3, IMAGE_SIZE, colors, seed=5)
    # a pixel of an unknown colour is background in every channel
    pairs[0][1][0, 0] = (9, 9, 9)
    with tf.io.TFRecordWriter(str(path), records.COMPRESSION) as writer:
        for i, (page, annotation) in enumerate(pairs):
            writer.write(fixtures.example_bytes(page, annotation, f"p{i}.png"))
    dataset = data.make_dataset([str(path)], 3, IMAGE_SIZE, colors, training=False)
    pages, targets = next(iter(dataset))
    assert pages.shape == (3, IMAGE_SIZE, IMAGE_SIZE, 3)
    assert targets.shape == (3, IMAGE_SIZE, IMAGE_SIZE, len(colors))
    for i, (page, annotation) in enumerate(pairs):
        np.testing.assert_allclose(pages[i].numpy(), page / 127.5 - 1.0, atol=1e-6)
        np.testing.assert_array_equal(targets[i].numpy(), numpy_channels(annotation, colors))
    assert targets[0, 0, 0].numpy().sum() == 0


def test_rgb_targets_without_separate_channels(tmp_path, tiny_data):
    path = tmp_path / "a.tfrecord.gz"
    pairs = fixtures.write_records(path, 2, IMAGE_SIZE, tiny_data["colors"])
    dataset = data.make_dataset([str(path)], 2, IMAGE_SIZE, None, training=False)
    _, targets = next(iter(dataset))
    np.testing.assert_allclose(targets[1].numpy(), pairs[1][1] / 127.5 - 1.0, atol=1e-6)


def test_training_dataset_repeats_and_shuffles(tiny_data):
    files = data.find_files([tiny_data["train"]])
    dataset = data.make_dataset(files, 5, IMAGE_SIZE, tiny_data["colors"], training=True, seed=1)
    batches = list(dataset.take(4))  # 20 examples from 12: it repeats
    assert all(b[0].shape[0] == 5 for b in batches)


def test_missing_glob_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no training files match .*nothing.*--train_data_paths"):
        data.find_files([str(tmp_path / "nothing/*tfrecord*")], "training")
    with pytest.raises(DataError, match="no training given"):
        data.find_files([], "training")


def write_corrupt_shard(tmp_path, colors):
    good = tmp_path / "good.tfrecord.gz"
    fixtures.write_records(good, 4, IMAGE_SIZE, colors)
    raw = gzip.decompress(good.read_bytes())
    bad = tmp_path / "bad.tfrecord.gz"
    # the first two records intact, then garbage in the middle of the third
    record_length = len(raw) // 4
    broken = bytearray(raw)
    broken[2 * record_length + 20 : 2 * record_length + 60] = b"\x00" * 40
    bad.write_bytes(gzip.compress(bytes(broken)))
    return str(good), str(bad)


def test_corrupt_shard_error_names_the_file(tmp_path, tiny_data):
    colors = tiny_data["colors"]
    good, bad = write_corrupt_shard(tmp_path, colors)
    dataset = data.make_dataset([good, bad], 2, IMAGE_SIZE, colors, training=False)
    with pytest.raises(tf.errors.OpError) as raised:
        list(dataset)
    explained = data.explain_data_error(raised.value, [good, bad], IMAGE_SIZE, colors)
    assert bad in str(explained) and good not in str(explained)
    assert "--skip_corrupt_records" in str(explained)


def test_skip_corrupt_records_flag(tmp_path, tiny_data):
    colors = tiny_data["colors"]
    good, bad = write_corrupt_shard(tmp_path, colors)
    dataset = data.make_dataset(
        [good, bad], 2, IMAGE_SIZE, colors, training=False, skip_corrupt=True
    )
    count = sum(int(b[0].shape[0]) for b in dataset)
    assert 4 + 2 <= count < 8  # all good records, the intact ones of the bad file


@pytest.mark.parametrize(
    ("records", "expected", "words"),
    [
        (
            16,
            IMAGE_SIZE,
            "records of 16 x 16 but the trainer's image_width x image_height is 32 x 32",
        ),
        (
            (64, 32),
            (32, 64),
            "records of 64 x 32 but the trainer's image_width x image_height is 32 x 64",
        ),
    ],
)
def test_wrong_image_size_names_the_file_and_both_sizes(
    tmp_path, tiny_data, records, expected, words
):
    path = tmp_path / "small.tfrecord.gz"
    fixtures.write_records(path, 1, records, tiny_data["colors"])
    problems = data.find_corrupt_files([str(path)], expected, tiny_data["colors"])
    assert problems and problems[0][0] == str(path)
    assert words in problems[0][1]
    dataset = data.make_dataset([str(path)], 1, expected, tiny_data["colors"], training=False)
    with pytest.raises(tf.errors.InvalidArgumentError, match="image_width x image_height is"):
        next(iter(dataset))


def test_non_square_records_decode_and_augment_at_width_x_height(tmp_path, tiny_data):
    colors = tiny_data["colors"]
    path = tmp_path / "portrait.tfrecord.gz"
    pairs = fixtures.write_records(path, 2, (32, 64), colors, seed=4)
    plain = data.make_dataset([str(path)], 2, (32, 64), colors, training=False)
    pages, targets = next(iter(plain))
    assert pages.shape == (2, 64, 32, 3) and targets.shape == (2, 64, 32, len(colors))
    np.testing.assert_array_equal(
        ((pages.numpy() + 1) * 127.5).round(), np.stack([p for p, _ in pairs])
    )
    augmented = data.make_dataset(
        [str(path)], 2, (32, 64), colors, training=True, augment=0.2, seed=1
    )
    pages, targets = next(iter(augmented))
    assert pages.shape == (2, 64, 32, 3) and targets.shape == (2, 64, 32, len(colors))


def test_augmentation_moves_page_and_labels_together(tmp_path, tiny_data):
    tf.random.set_seed(0)
    colors = tiny_data["colors"]
    path = tmp_path / "a.tfrecord.gz"
    fixtures.write_records(path, 4, IMAGE_SIZE, colors, seed=3)
    plain = data.make_dataset([str(path)], 4, IMAGE_SIZE, colors, training=False)
    augmented = data.make_dataset(
        [str(path)], 4, IMAGE_SIZE, colors, training=True, augment=0.2, seed=1
    )
    pages, targets = next(iter(augmented))
    assert pages.shape == (4, IMAGE_SIZE, IMAGE_SIZE, 3)
    # still one class at most per pixel, and labels only where the page has ink
    assert float(tf.reduce_max(tf.reduce_sum(targets, -1))) == 1.0
    labelled = tf.reduce_sum(targets, -1) > 0
    ink = tf.reduce_min(pages, -1) < 0.9
    agreement = tf.reduce_mean(tf.cast(labelled == ink, tf.float32))
    # bilinear page edges against nearest-neighbour labels disagree only along the blocks' rims
    assert float(agreement) > 0.9
    plain_pages, _ = next(iter(plain))
    assert not np.allclose(np.sort(pages.numpy().ravel()), np.sort(plain_pages.numpy().ravel()))


def test_folders_without_completion_report_are_named(tmp_path, tiny_data):
    done, partial = tmp_path / "done", tmp_path / "partial"
    for folder in (done, partial):
        folder.mkdir()
        fixtures.write_records(folder / "part-0.tfrecord.gz", 1, IMAGE_SIZE, tiny_data["colors"])
    fixtures.write_completion_report(done)
    patterns = [str(done / "*.tfrecord.gz"), str(partial / "*.tfrecord.gz")]
    with pytest.raises(DataError, match="--train_data_paths: no preprocess-report.json in 1 "):
        data.find_files(patterns, "training", require_complete=True)
    with pytest.raises(DataError) as raised:
        data.find_files(patterns, "training", require_complete=True)
    assert str(partial) in str(raised.value) and str(done) not in str(raised.value)
    assert len(data.find_files(patterns, "training")) == 2  # the check is asked for, not implied
    assert len(data.find_files(patterns[:1], "training", require_complete=True)) == 1
