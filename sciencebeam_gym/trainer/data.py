"""The input pipeline: gzipped TFRecord shards -> batches of (page, target) tensors.

The records follow the contract in `sciencebeam_gym.records` (feature names, compression).
Decoding and channel separation run inside the tf.data graph, in parallel.

Tensors produced:
- page: float32 (H, W, 3) in [-1, 1]
- target: float32 (H, W, C) with one 0/1 channel per class (classes by key) when separate
  channels are used (unknown pixels: `losses.UNKNOWN_TARGET` in every channel), else the RGB
  annotation in [-1, 1] (unknown pixels white)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from sciencebeam_gym import weighted_sources
from sciencebeam_gym.color_map import UNKNOWN_COLOR
from sciencebeam_gym.model_contract import to_unit_range, width_height
from sciencebeam_gym.records import (
    ANNOTATION_IMAGE,
    COMPLETION_REPORT_NAME,
    COMPRESSION,
    FEATURE_KEYS,
    INPUT_IMAGE,
    INPUT_URI,
    OPTIONAL_FEATURE_KEYS,
    IncompleteDataError,
    check_completion_reports,
)
from sciencebeam_gym.storage import fs
from sciencebeam_gym.trainer.losses import UNKNOWN_TARGET
from sciencebeam_gym.weighted_sources import Source

FEATURES = {
    key: tf.io.FixedLenFeature(
        [], tf.string, default_value="" if key in OPTIONAL_FEATURE_KEYS else None
    )
    for key in FEATURE_KEYS
}


class DataError(ValueError):
    """Training data that cannot be used; the message names the file or glob."""


def find_files(
    patterns: Sequence[str],
    what: str = "data",
    flag: str = "--train_data_paths",
    require_complete: bool = False,
):
    """Files matching the globs, sorted; a clear error when there are none, or (with
    `require_complete`) when a folder of them has no preprocessing completion report."""
    if not patterns:
        raise DataError(f"no {what} given: pass {flag} (a glob of *.tfrecord.gz files)")
    files = fs.glob_many(patterns)
    if not files:
        hints = [hint for hint in (fs.explain_no_match(p) for p in patterns) if hint]
        raise DataError(
            f"no {what} files match {', '.join(patterns)} ({flag}); "
            "run ./preprocess.sh first, or check PREPROC_PATH"
            + "".join(f"\n  {hint}" for hint in hints)
        )
    if require_complete:
        try:
            check_completion_reports(files)
        except IncompleteDataError as error:
            raise DataError(f"{flag}: {error}") from error
    return files


# A source's smallest share of the mix: tf.data draws by float32 shares, and a source drawn
# less than once in a million examples is a weight typed wrong.
MIN_SHARE = 1e-6


@dataclass(frozen=True)
class SourceFiles:
    """A source's files and its share of the training examples (weight / sum of weights)."""

    source: Source
    files: tuple[str, ...]
    share: float = 1.0


def parse_source(text: str, flag: str = "--train_data_paths") -> Source:
    """GLOB[,GLOB...][:WEIGHT] (`weighted_sources.parse_source`); DataError when it is wrong."""
    return weighted_sources.parse_source(text, flag, DataError)


def find_sources(
    values: Sequence[str],
    what: str = "training",
    flag: str = "--train_data_paths",
    require_complete: bool = False,
) -> list[SourceFiles]:
    """Each source's files (see find_files, applied per source), with its share of the mix."""
    sources = [parse_source(value, flag) for value in values]
    if not sources:
        find_files([], what, flag)  # raises: no data given
    source_shares = shares([source.weight for source in sources])
    for source, share in zip(sources, source_shares, strict=True):
        if share < MIN_SHARE:
            raise DataError(
                f"{flag} {source.text}: its weight is too small beside the others (a share of "
                f"{share:.3g}, below {MIN_SHARE:g}); give it a larger weight or leave it out"
            )
    return [
        SourceFiles(
            source,
            tuple(
                find_files(
                    source.globs,
                    what,
                    f"{flag} {source.text}" if len(sources) > 1 else flag,
                    require_complete,
                )
            ),
            share,
        )
        for source, share in zip(sources, source_shares, strict=True)
    ]


def find_run_files(config: dict) -> tuple[list[SourceFiles], list[str]]:
    """The training sources and the evaluation files of a training config, as found."""
    complete = not config["allow_incomplete_data"]
    sources = find_sources(config["train_data_paths"], "training", "--train_data_paths", complete)
    eval_files = []
    if config["eval_data_paths"]:
        eval_files = find_files(
            config["eval_data_paths"], "evaluation", "--eval_data_paths", complete
        )
    return sources, eval_files


def shares(weights: Sequence[float]) -> list[float]:
    """Each weight's share of their sum; the weights are divided by the largest first, so that
    huge ones (1e308 twice) do not overflow the sum to infinity and every share to 0."""
    largest = max(weights)
    scaled = [weight / largest for weight in weights]
    total = sum(scaled)
    return [weight / total for weight in scaled]


def estimate_records(files: Sequence[str]) -> int | None:
    """Records in `files` by their folders' completion reports (records_written, prorated by
    shards); None when a folder has no such report."""
    by_folder: dict[str, int] = {}
    for path in files:
        by_folder[fs.dirname(path)] = by_folder.get(fs.dirname(path), 0) + 1
    total = 0.0
    for folder, count in by_folder.items():
        report_path = fs.join(folder, COMPLETION_REPORT_NAME)
        try:
            report = json.loads(fs.read_bytes(report_path).decode("utf-8"))
            total += report["records_written"] * count / max(len(report["shards"]), count)
        except (OSError, ValueError, KeyError, TypeError):
            return None
    return round(total)


def pack_rgb(rgb: tf.Tensor) -> tf.Tensor:
    """(…, 3) uint8 colours -> (…) int32 r<<16 | g<<8 | b, for exact colour comparison."""
    rgb = tf.cast(rgb, tf.int32)
    return rgb[..., 0] * 65536 + rgb[..., 1] * 256 + rgb[..., 2]


def separate_channels(annotation: tf.Tensor, colors: np.ndarray) -> tf.Tensor:
    """(H, W, 3) uint8 annotation -> (H, W, C) float32, 1 where the pixel has class c's colour;
    unknown (white) pixels hold UNKNOWN_TARGET in every channel (see `losses.with_background`)."""
    packed_colors = tf.constant(
        (colors[:, 0].astype(np.int32) << 16) | (colors[:, 1].astype(np.int32) << 8) | colors[:, 2],
        dtype=tf.int32,
    )
    packed = pack_rgb(annotation)
    channels = tf.cast(tf.equal(packed[..., None], packed_colors), tf.float32)
    unknown = tf.equal(packed, pack_rgb(tf.constant(UNKNOWN_COLOR)))[..., None]
    return tf.where(unknown, UNKNOWN_TARGET, channels)


def parse_example(serialized: tf.Tensor) -> dict:
    return tf.io.parse_single_example(serialized, FEATURES)


def augment_pair(
    page: tf.Tensor, annotation: tf.Tensor, image_size: int | tuple[int, int], max_scale: float
) -> tuple[tf.Tensor, tf.Tensor]:
    """The same random stretch (each axis by up to +-max_scale) and shift for page and labels.

    Pages of other sizes and margins look like this after resizing; the page is filled with
    white and the annotation with background where the shifted page leaves a gap.
    """
    width, height = width_height(image_size)
    margin = [int(height * max_scale), int(width * max_scale)]
    canvas = [height + 2 * margin[0], width + 2 * margin[1]]
    scale = tf.random.uniform([2], 1.0 - max_scale, 1.0 + max_scale)
    size = tf.cast(tf.round(scale * tf.constant([height, width], tf.float32)), tf.int32)
    size = tf.minimum(size, [height + margin[0], width + margin[1]])
    page = tf.image.resize(tf.cast(page, tf.float32), size, method="bilinear")
    annotation = tf.image.resize(annotation, size, method="nearest")
    top = tf.random.uniform([], 0, canvas[0] - size[0] + 1, dtype=tf.int32)
    left = tf.random.uniform([], 0, canvas[1] - size[1] + 1, dtype=tf.int32)
    page = tf.image.pad_to_bounding_box(page - 255.0, top, left, *canvas) + 255.0
    annotation = tf.image.pad_to_bounding_box(annotation, top, left, *canvas)
    page = page[margin[0] : margin[0] + height, margin[1] : margin[1] + width]
    annotation = annotation[margin[0] : margin[0] + height, margin[1] : margin[1] + width]
    return tf.cast(tf.round(page), tf.uint8), annotation


def size_message(image_size: int | tuple[int, int], actual: tuple[int, int] | None = None) -> str:
    """The mismatch error: the records' size (when known) and the trainer's, both W x H."""
    width, height = width_height(image_size)
    found = f"records of {actual[0]} x {actual[1]}" if actual else "records of another size"
    return (
        f"image size differs: {found} but the trainer's image_width x image_height is "
        f"{width} x {height} (W x H); train at the records' size (IMAGE_WIDTH, IMAGE_HEIGHT) "
        "or preprocess again at this one"
    )


def decode_example(
    features: dict,
    image_size: int | tuple[int, int],
    colors: np.ndarray | None,
    augment: float = 0.0,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Parsed features -> (page, target) tensors, with shapes checked against image_size
    (one side of a square, or (width, height))."""
    page = tf.io.decode_png(features[INPUT_IMAGE], channels=3)
    annotation = tf.io.decode_png(features[ANNOTATION_IMAGE], channels=3)
    width, height = width_height(image_size)
    expected = tf.constant([height, width, 3])
    message = size_message(image_size)
    if tf.executing_eagerly() and tuple(page.shape) != (height, width, 3):
        message = size_message(image_size, (page.shape[1], page.shape[0]))
    with tf.control_dependencies(
        [
            tf.debugging.assert_equal(tf.shape(page), expected, message=message),
            tf.debugging.assert_equal(tf.shape(annotation), expected, message=message),
        ]
    ):
        page = tf.ensure_shape(page, [height, width, 3])
        annotation = tf.ensure_shape(annotation, [height, width, 3])
    if augment > 0:
        page, annotation = augment_pair(page, annotation, image_size, augment)
    target = to_unit_range(annotation) if colors is None else separate_channels(annotation, colors)
    return to_unit_range(page), target


def read_records(files: Sequence[str], shuffle: bool, skip_corrupt: bool) -> tf.data.Dataset:
    """Serialized records of all files, read in parallel (interleaved) when shuffling."""

    def read_file(path):
        records = tf.data.TFRecordDataset(path, compression_type=COMPRESSION)
        return records.ignore_errors() if skip_corrupt else records

    paths = tf.data.Dataset.from_tensor_slices(list(files))
    if shuffle:
        paths = paths.shuffle(len(files), reshuffle_each_iteration=True)
    return paths.interleave(
        read_file,
        cycle_length=min(len(files), 8),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=not shuffle,
    )


def all_files(files) -> list[str]:
    """The record files of a file list or of a list of SourceFiles."""
    if files and isinstance(files[0], SourceFiles):
        return [path for source in files for path in source.files]
    return list(files)


def shuffled_records(files, shuffle_buffer: int, skip_corrupt: bool, seed: int | None):
    """One source's records: files and records shuffled, repeated forever."""
    records = read_records(files, shuffle=True, skip_corrupt=skip_corrupt)
    records = records.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return records.repeat()


def training_records(files, shuffle_buffer: int, skip_corrupt: bool, seed: int | None):
    """Records for training; several sources are each shuffled and repeated on their own and
    drawn by share (a source with no readable record ends the stream)."""
    if not files or not isinstance(files[0], SourceFiles):
        return shuffled_records(files, shuffle_buffer, skip_corrupt, seed)
    if len(files) == 1:
        return shuffled_records(files[0].files, shuffle_buffer, skip_corrupt, seed)
    datasets = [
        shuffled_records(
            source.files, shuffle_buffer, skip_corrupt, None if seed is None else seed + index
        )
        for index, source in enumerate(files)
    ]
    return tf.data.Dataset.sample_from_datasets(
        datasets,
        weights=[source.share for source in files],
        seed=seed,
        stop_on_empty_dataset=True,
    )


def make_dataset(
    files: Sequence[str],
    batch_size: int,
    image_size: int | tuple[int, int],
    colors: np.ndarray | None,
    training: bool,
    shuffle_buffer: int = 256,
    skip_corrupt: bool = False,
    seed: int | None = None,
    with_uris: bool = False,
    augment: float = 0.0,
) -> tf.data.Dataset:
    """Batches of (page, target) — or (page, target, input_uri) with `with_uris`.

    `files`: record files, or one `SourceFiles` per source (mixed by share when training).
    Training: shuffled, repeated forever, only full batches. Evaluation: one ordered pass.
    """
    if training:
        records = training_records(files, shuffle_buffer, skip_corrupt, seed)
    else:
        records = read_records(all_files(files), shuffle=False, skip_corrupt=skip_corrupt)

    def decode(serialized):
        features = parse_example(serialized)
        page, target = decode_example(features, image_size, colors, augment if training else 0.0)
        if with_uris:
            return page, target, features[INPUT_URI]
        return page, target

    examples = records.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not training)
    if skip_corrupt:
        examples = examples.ignore_errors()
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    examples = examples.with_options(options)
    return examples.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)


def first_line(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def check_file(
    path: str, image_size: int | tuple[int, int], colors: np.ndarray | None
) -> str | None:
    """Read and decode every record of one file; the error text, or None when it is sound."""
    dataset = tf.data.TFRecordDataset(path, compression_type=COMPRESSION)
    read = 0
    try:
        for serialized in dataset:
            read += 1
            decode_example(parse_example(serialized), image_size, colors)
    except tf.errors.DataLossError as error:
        return f"record {read + 1} cannot be read: {first_line(error)}"
    except (tf.errors.OpError, ValueError) as error:
        return f"record {read}: {first_line(error)}"
    return None


def find_corrupt_files(
    files: Sequence[str], image_size: int | tuple[int, int], colors: np.ndarray | None
) -> list[tuple[str, str]]:
    """(file, problem) for every file that cannot be read through; used to explain a failure."""
    problems = []
    for path in files:
        problem = check_file(path, image_size, colors)
        if problem:
            problems.append((path, problem))
    return problems


def explain_data_error(
    error: Exception,
    files: Sequence[str],
    image_size: int | tuple[int, int],
    colors: np.ndarray | None,
) -> DataError:
    """Turn a failure inside the input pipeline into an error naming the bad file(s)."""
    problems = find_corrupt_files(files, image_size, colors)
    if not problems:
        return DataError(f"reading the data failed: {error}")
    listed = "\n".join(f"  {path}: {problem}" for path, problem in problems)
    return DataError(
        f"corrupt or unusable data in {len(problems)} file(s):\n{listed}\n"
        "re-run ./preprocess.sh for those files, remove them, or pass --skip_corrupt_records "
        "to skip the records that cannot be read"
    )


def decode_images(serialized) -> tuple[str, np.ndarray, np.ndarray]:
    features = parse_example(serialized)
    page = tf.io.decode_png(features[INPUT_IMAGE], channels=3).numpy()
    annotation = tf.io.decode_png(features[ANNOTATION_IMAGE], channels=3).numpy()
    return features[INPUT_URI].numpy().decode("utf-8"), page, annotation


def corrupt_record_error(path: str, record: int, error: Exception) -> DataError:
    return DataError(
        f"{path}: record {record} cannot be read ({first_line(error)}); re-run "
        "./preprocess.sh for that file, remove it, or pass --skip_corrupt_records to skip "
        "the records that cannot be read"
    )


def iterate_file(path: str, skip_corrupt: bool = False):
    """(input_uri, page, annotation) of one file's records; a bad one names file and record.

    With skip_corrupt, records that do not decode are skipped and the file ends where it
    stops being readable (as the training pipeline does).
    """
    records = tf.data.TFRecordDataset(path, compression_type=COMPRESSION)
    if skip_corrupt:
        records = records.ignore_errors()
    record = 0
    try:
        for serialized in records:
            record += 1
            try:
                decoded = decode_images(serialized)
            except (tf.errors.OpError, ValueError) as error:
                if not skip_corrupt:
                    raise corrupt_record_error(path, record, error) from error
                continue
            yield decoded
    except tf.errors.OpError as error:  # the stream itself broke (truncated, bad gzip)
        raise corrupt_record_error(path, record + 1, error) from error


def iterate_examples(path_or_files, skip_corrupt: bool = False):
    """(input_uri, page uint8, annotation uint8) of every record, in file order (numpy)."""
    files = [path_or_files] if isinstance(path_or_files, str) else list(path_or_files)
    for path in files:
        yield from iterate_file(path, skip_corrupt)
