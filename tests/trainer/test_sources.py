"""Training from several sources: GLOB[:WEIGHT] parsing, the weighted mix, errors, a smoke run."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from sciencebeam_gym import records
from sciencebeam_gym.color_map import load_color_map
from sciencebeam_gym.trainer import class_weights, data, task
from sciencebeam_gym.trainer.data import DataError, Source
from tests.trainer import fixtures
from tests.trainer.conftest import IMAGE_SIZE, train_args


def write_source(directory, name: str, count: int, colors, seed: int = 0, report=True) -> str:
    """One shard of `count` records whose input_uri starts with `name/`; its glob."""
    os.makedirs(str(directory), exist_ok=True)
    rng = np.random.default_rng(seed)
    path = os.path.join(str(directory), "data-00000-of-00001.tfrecord.gz")
    with tf.io.TFRecordWriter(path, records.COMPRESSION) as writer:
        for index in range(count):
            page, annotation = fixtures.make_page(IMAGE_SIZE, colors, rng)
            writer.write(fixtures.example_bytes(page, annotation, f"{name}/page-{index}.png"))
    if report:
        report_path = os.path.join(str(directory), records.COMPLETION_REPORT_NAME)
        with open(report_path, "w", encoding="utf-8") as handle:
            json.dump({"status": "ok", "records_written": count, "shards": [path]}, handle)
    return os.path.join(str(directory), "*tfrecord*")


@pytest.fixture(scope="module")
def two_sources(tiny_data, tmp_path_factory):
    """{"many": glob of 12 synthetic records, "few": glob of 3 real ones}."""
    root = tmp_path_factory.mktemp("sources")
    colors = tiny_data["colors"]
    return {
        "many": write_source(root / "synthetic", "synthetic", 12, colors, seed=1),
        "few": write_source(root / "real", "real", 3, colors, seed=2),
    }


@pytest.mark.parametrize(
    ("text", "globs", "weight"),
    [
        ("data/*.tfrecord.gz", ("data/*.tfrecord.gz",), 1.0),
        ("data/*.tfrecord.gz:3", ("data/*.tfrecord.gz",), 3.0),
        ("data/*:0.25", ("data/*",), 0.25),
        ("gs://bucket/x/*.tfrecord.gz", ("gs://bucket/x/*.tfrecord.gz",), 1.0),
        ("gs://bucket/x/*.tfrecord.gz:2", ("gs://bucket/x/*.tfrecord.gz",), 2.0),
        ("a:b/*tfrecord*", ("a:b/*tfrecord*",), 1.0),  # a ':' inside the path
        ("a/*,b/*:4", ("a/*", "b/*"), 4.0),
    ],
)
def test_parse_source(text, globs, weight):
    assert data.parse_source(text) == Source(text, globs, weight)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("data/*:abc", "weight 'abc' of --train_data_paths data/*:abc is not a number"),
        ("data/*:", "weight '' of --train_data_paths data/*: is not a number"),
        ("data/*:0", "weight '0' of --train_data_paths data/*:0 must be a number > 0"),
        ("data/*:-1", "weight '-1' of --train_data_paths data/*:-1 must be a number > 0"),
        ("data/*:nan", "must be a number > 0"),
        (":2", "--train_data_paths :2: no glob"),
    ],
)
def test_parse_source_errors(text, message):
    with pytest.raises(DataError) as error:
        data.parse_source(text)
    assert message in str(error.value)


def test_shares_are_normalised_weights(two_sources):
    found = data.find_sources([two_sources["many"], two_sources["few"] + ":3"])
    assert [source.share for source in found] == [0.25, 0.75]
    assert [len(source.files) for source in found] == [1, 1]
    assert data.estimate_records(found[0].files) == 12
    assert data.estimate_records(found[1].files) == 3


def test_a_source_matching_nothing_is_named(two_sources, tmp_path):
    missing = str(tmp_path / "nothing" / "*tfrecord*") + ":2"
    with pytest.raises(DataError) as error:
        data.find_sources([two_sources["many"], missing])
    assert f"(--train_data_paths {missing})" in str(error.value)
    assert two_sources["many"] not in str(error.value)


def test_completion_report_is_checked_per_source(two_sources, tiny_data, tmp_path):
    partial = write_source(tmp_path / "partial", "partial", 2, tiny_data["colors"], report=False)
    with pytest.raises(DataError) as error:
        data.find_sources([two_sources["many"], partial + ":2"], require_complete=True)
    assert f"--train_data_paths {partial}:2: no preprocess-report.json" in str(error.value)
    assert len(data.find_sources([two_sources["many"], partial + ":2"])) == 2


def source_counts(dataset, batches: int) -> dict[str, int]:
    counts = {"synthetic": 0, "real": 0}
    for _pages, _targets, uris in dataset.take(batches):
        for uri in uris.numpy():
            counts[uri.decode("utf-8").split("/")[0]] += 1
    return counts


def test_weights_1_to_3_give_that_share_of_examples(two_sources, tiny_data):
    # 12 synthetic records against 3 real ones, weighted 1:3: 3 of 4 examples are real ones
    found = data.find_sources([two_sources["many"], two_sources["few"] + ":3"])
    dataset = data.make_dataset(
        found, 10, IMAGE_SIZE, tiny_data["colors"], training=True, seed=3, with_uris=True
    )
    counts = source_counts(dataset, 80)
    share = counts["real"] / sum(counts.values())
    assert 0.70 < share < 0.80, counts  # 800 draws: 3 standard deviations are 0.046


def test_one_source_reads_as_a_plain_file_list(two_sources, tiny_data):
    found = data.find_sources([two_sources["many"] + ":5"])
    assert found[0].share == 1.0
    as_sources = data.make_dataset(
        found, 4, IMAGE_SIZE, tiny_data["colors"], training=False, with_uris=True
    )
    as_files = data.make_dataset(
        list(found[0].files), 4, IMAGE_SIZE, tiny_data["colors"], training=False, with_uris=True
    )
    uris = [[u for _p, _t, batch in d for u in batch.numpy()] for d in (as_sources, as_files)]
    assert uris[0] == uris[1] and len(uris[0]) == 12


def test_mixed_class_weights_count_each_source_at_its_share(two_sources, tiny_data, tmp_path):
    color_map = load_color_map(tiny_data["color_map"])
    # a source of blank pages (background only) against the banded pages
    blank_dir = tmp_path / "blank"
    blank_dir.mkdir()
    blank = np.full((IMAGE_SIZE, IMAGE_SIZE, 3), 255, np.uint8)
    black = np.zeros((IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    with tf.io.TFRecordWriter(str(blank_dir / "b.tfrecord.gz"), records.COMPRESSION) as writer:
        for index in range(3):
            writer.write(fixtures.example_bytes(blank, black, f"blank/{index}.png"))
    blank_glob = str(blank_dir / "*tfrecord*")
    for weight, synthetic_budget in ((1, 5), (9, 1)):
        found = data.find_sources([two_sources["many"], f"{blank_glob}:{weight}"])
        document = class_weights.calculate_mixed_class_weights(found, color_map, max_records=10)
        alone = class_weights.calculate_class_weights(
            found[0].files, color_map, max_records=synthetic_budget
        )
        assert alone["image_counts"][0] == synthetic_budget
        synthetic = alone["pixel_counts"][0] / sum(alone["pixel_counts"])
        counts = np.asarray(document["pixel_counts"], dtype=float)
        # background share of the mix = each source's background share, weighed by its share
        expected = found[0].share * synthetic + found[1].share * 1.0
        assert counts[0] / counts.sum() == pytest.approx(expected, abs=1e-4)


def test_smoke_run_with_two_weighted_sources(two_sources, tiny_data, tmp_path, capsys):
    args = train_args(tiny_data, tmp_path / "model", "--max_steps", "2")
    args[args.index("--train_data_paths") + 1] = two_sources["many"]
    args += ["--train_data_paths", two_sources["few"] + ":3"]
    assert task.main(args) == 0
    err = capsys.readouterr().err
    assert f"source {two_sources['many']}: 1 file(s), ~12 record(s), share 25.0%" in err
    assert f"source {two_sources['few']}:3: 1 file(s), ~3 record(s), share 75.0%" in err
    saved = json.loads((tmp_path / "model" / "config.json").read_text())
    assert saved["train_data_paths"] == [two_sources["many"], two_sources["few"] + ":3"]


def test_bad_weight_exits_2_naming_the_flag(tiny_data, tmp_path, capsys):
    args = train_args(tiny_data, tmp_path / "model")
    args[args.index("--train_data_paths") + 1] = tiny_data["train"] + ":abc"
    assert task.main(args) == 2
    assert f"weight 'abc' of --train_data_paths {tiny_data['train']}:abc" in capsys.readouterr().err


def test_huge_weights_give_their_shares_not_an_overflow(two_sources):
    # 1e308 + 1e308 is infinity: every share was 0 and the run found "no readable records"
    found = data.find_sources([two_sources["many"] + ":1e308", two_sources["few"] + ":1e308"])
    assert [source.share for source in found] == [0.5, 0.5]
    found = data.find_sources([two_sources["many"] + ":5e307", two_sources["few"] + ":1.5e308"])
    assert [source.share for source in found] == [0.25, 0.75]
    assert data.shares([5e-324, 5e-324]) == [0.5, 0.5]


def test_a_weight_too_small_beside_the_others_is_named(two_sources):
    with pytest.raises(DataError) as error:
        data.find_sources([two_sources["many"] + ":1e300", two_sources["few"] + ":1"])
    assert f"{two_sources['few']}:1: its weight is too small" in str(error.value)
