"""End-to-end runs of the preprocessing pipeline on Beam's DirectRunner, with real files."""

import errno
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from sciencebeam_gym import records
from sciencebeam_gym.cli import EXIT_NO_INPUT
from sciencebeam_gym.preprocess import images, pairing
from sciencebeam_gym.preprocess.pipeline import (
    REPORT_NAME,
    TEMP_FOLDER_PREFIX,
    main,
)
from sciencebeam_gym.storage import fs
from sciencebeam_gym.storage.folder_lock import LOCK_NAME
from tests.preprocess.conftest import (
    decompression_bomb_png,
    draw_label,
    draw_page,
    png_bytes,
    write_pair,
)

SIZE = (40, 30)
# Tests of the run's bookkeeping use one in-process worker: quicker, same code path.
ONE_WORKER = ("--direct_num_workers", "1")


def read_records(output_path) -> list[dict]:
    found = []
    for path in fs.glob(os.path.join(fs.escape_glob(str(output_path)), "*.tfrecord.gz")):
        found.extend(records.decode_example(r) for r in records.read_tfrecord_file(path))
    return found


def decode_png(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.mode == "RGB"
    return np.asarray(image)


def preprocess(data_glob, output_path, *extra) -> int:
    """Run the command line in this process (its default, multi-process DirectRunner)."""
    return main(
        [
            "--data_paths",
            str(data_glob),
            "--output_path",
            str(output_path),
            "--image_width",
            str(SIZE[0]),
            "--image_height",
            str(SIZE[1]),
            *extra,
        ]
    )


def read_report(output_path) -> dict:
    return json.loads((output_path / REPORT_NAME).read_text("utf-8"))


@pytest.fixture(scope="module")
def bad_input_run(tmp_path_factory):
    """One run over a corpus holding every kind of bad input next to good pairs."""
    root = tmp_path_factory.mktemp("bad-input")
    data = root / "data"
    group = data / "group"
    good = {}
    for i in range(3):
        good[f"good{i}"] = write_pair(str(group / f"good{i}"), f"good{i}", seed=i)
    rgba = np.dstack([draw_page(), np.full((160, 120), 255, np.uint8)])
    good["rgba"] = write_pair(str(group / "rgba"), "rgba", page=rgba)
    good["palette"] = write_pair(
        str(group / "palette"), "palette", label=Image.fromarray(draw_label()).convert("P")
    )
    good["grey"] = write_pair(str(group / "grey"), "grey", page=draw_page()[..., 0])
    good["unicode"] = write_pair(str(data / "grüppe 2" / "doc ü é"), "doc ü é")
    bad = {}
    bad[images.EMPTY_FILE] = write_pair(str(group / "empty"), "empty", page=b"")[0]
    truncated = png_bytes(draw_page())[:200]
    bad[images.TRUNCATED_IMAGE] = write_pair(str(group / "trunc"), "trunc", label=truncated)[1]
    text = b"not an image\n"
    bad[images.NOT_AN_IMAGE] = write_pair(str(group / "text"), "text", page=text)[0]
    bomb = decompression_bomb_png()
    bad[images.IMAGE_TOO_LARGE] = write_pair(str(group / "bomb"), "bomb", page=bomb)[0]
    page_only, annotation_only = write_pair(str(group / "lonely"), "lonely")
    os.remove(annotation_only)
    bad[pairing.MISSING_ANNOTATION] = page_only
    page, annotation_only = write_pair(str(group / "orphan"), "orphan")
    os.remove(page)
    bad[pairing.MISSING_PAGE] = annotation_only
    page, _ = write_pair(str(group / "twice"), "twice")
    (group / "twice" / "twice-page1-target.png").write_bytes(png_bytes(draw_label()))
    bad[pairing.MULTIPLE_ANNOTATIONS] = page
    # a label of another resolution would be stretched over the page
    big_label = draw_label(240, 320)
    bad[images.SIZE_MISMATCH] = write_pair(str(group / "big"), "big", label=big_label)[0]
    # a Latin-1 file name: not UTF-8, so it cannot go into the work list or the report
    latin1 = os.path.join(os.fsencode(str(group)), b"latin1", b"caf\xe9-page1.png")
    os.makedirs(os.path.dirname(latin1))
    with open(latin1, "wb") as f:
        f.write(png_bytes(draw_page()))
    bad[pairing.UNDECODABLE_NAME] = fs.printable_path(os.fsdecode(latin1))

    output = root / "out"
    exit_code = preprocess(data / "*" / "*" / "*-page1*.png", output, "--max_error_rate", "1")
    return {"exit_code": exit_code, "output": output, "good": good, "bad": bad}


@pytest.mark.slow
def test_bad_input_is_skipped_and_every_good_pair_written(bad_input_run, color_map):
    assert bad_input_run["exit_code"] == 0
    output = bad_input_run["output"]
    written = read_records(output)
    good = bad_input_run["good"]
    assert sorted(r[records.INPUT_URI][0].decode() for r in written) == sorted(
        page for page, _ in good.values()
    )
    allowed = {(0, 0, 0), *color_map.colors}
    for record in written:
        assert set(record) == set(records.FEATURE_KEYS)
        page_uri = record[records.INPUT_URI][0].decode()
        assert record[records.ANNOTATION_URI][0].decode() == dict(good.values())[page_uri]
        page = decode_png(record[records.INPUT_IMAGE][0])
        annotation = decode_png(record[records.ANNOTATION_IMAGE][0])
        assert page.shape == annotation.shape == (SIZE[1], SIZE[0], 3)
        assert {tuple(int(v) for v in c) for c in annotation.reshape(-1, 3)} <= allowed
        assert len({tuple(c) for c in annotation.reshape(-1, 3)}) == 4  # background + 3 classes

    report = read_report(output)
    assert report["status"] == "ok"
    assert {(s["path"], s["reason"]) for s in report["skipped"]} == {
        (path, reason) for reason, path in bad_input_run["bad"].items()
    }
    assert report["records_written"] == len(good)
    assert report["pairs_found"] == len(good) + len(bad_input_run["bad"])
    assert report["skipped_by_reason"] == {reason: 1 for reason in bad_input_run["bad"]}
    assert sorted(report["shards"]) == sorted(p.name for p in output.glob("*.tfrecord.gz"))
    assert not list(output.glob(TEMP_FOLDER_PREFIX + "*"))


@pytest.mark.slow
def test_rgba_palette_and_grey_inputs_are_written_correctly(bad_input_run, color_map):
    written = {r[records.INPUT_URI][0].decode(): r for r in read_records(bad_input_run["output"])}
    good = bad_input_run["good"]
    reference = decode_png(written[good["good0"][0]][records.INPUT_IMAGE][0]).astype(int)
    rgba = decode_png(written[good["rgba"][0]][records.INPUT_IMAGE][0]).astype(int)
    assert np.abs(rgba - reference).max() <= 1  # opaque RGBA page == the same RGB page
    grey = decode_png(written[good["grey"][0]][records.INPUT_IMAGE][0])
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    expected = decode_png(written[good["good0"][0]][records.ANNOTATION_IMAGE][0])
    palette = decode_png(written[good["palette"][0]][records.ANNOTATION_IMAGE][0])
    assert np.array_equal(palette, expected)


@pytest.mark.slow
def test_error_rate_above_threshold_fails_with_reason(tmp_path, capsys):
    write_pair(str(tmp_path / "data" / "g" / "a"), "a")
    write_pair(str(tmp_path / "data" / "g" / "b"), "b", page=b"")
    output = tmp_path / "out"
    assert preprocess(tmp_path / "data" / "*" / "*" / "*.png", output, *ONE_WORKER) == 1
    assert "above --max_error_rate" in capsys.readouterr().err
    report = read_report(output)
    assert report["status"] == "failed"
    assert report["records_written"] == 1
    assert report["error_rate"] == 0.5


@pytest.mark.slow
def test_nothing_written_fails(tmp_path, capsys):
    write_pair(str(tmp_path / "data" / "g" / "a"), "a", label=b"text")
    glob = tmp_path / "data" / "*" / "*" / "*.png"
    assert preprocess(glob, tmp_path / "out", "--max_error_rate", "1", *ONE_WORKER) == 1
    assert "nothing was written" in capsys.readouterr().err


def test_empty_input_glob_fails_before_running(tmp_path, capsys):
    output = tmp_path / "out"
    assert preprocess(tmp_path / "nothing" / "*.png", output) == EXIT_NO_INPUT
    err = capsys.readouterr().err
    assert "no files match --data_paths" in err and str(tmp_path / "nothing") in err
    assert not output.exists()


@pytest.mark.parametrize("content", [None, b"\xff\xfe not text", b"[color_map]\n1=(300,0,0)\n"])
def test_unreadable_colour_map_fails_naming_it(tmp_path, capsys, content):
    write_pair(str(tmp_path / "data" / "g" / "a"), "a")
    color_map = tmp_path / "my_color_map.conf"
    if content is not None:
        color_map.write_bytes(content)
    code = preprocess(
        tmp_path / "data" / "*" / "*" / "*.png", tmp_path / "out", "--color_map", str(color_map)
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--color_map" in err and "my_color_map.conf" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_rerun_replaces_old_shards_and_removes_stale_temp_folders(tmp_path):
    data = tmp_path / "data"
    for i in range(4):
        write_pair(str(data / "g" / f"d{i}"), f"d{i}", seed=i)
    output = tmp_path / "out"
    glob = data / "*" / "*" / "*.png"
    assert preprocess(glob, output, "--num_shards", "3", *ONE_WORKER) == 0
    assert len(list(output.glob("*.tfrecord.gz"))) == 3
    stale = output / f"{TEMP_FOLDER_PREFIX}interrupted"
    stale.mkdir()
    (stale / "part-00000-of-00001.tfrecord.gz").write_bytes(b"half")
    os.remove(data / "g" / "d3" / "d3-page1.png")
    os.remove(data / "g" / "d3" / "d3-page1.annot.png")

    assert preprocess(glob, output, "--num_shards", "1", *ONE_WORKER) == 0
    assert [p.name for p in output.glob("*.tfrecord.gz")] == ["part-00000-of-00001.tfrecord.gz"]
    assert len(read_records(output)) == 3
    assert not stale.exists()
    assert read_report(output)["shards"] == ["part-00000-of-00001.tfrecord.gz"]


@pytest.mark.slow
def test_interrupted_run_leaves_the_previous_output_complete(tmp_path):
    """Kill a run in the middle; the folder still holds the previous run, complete and alone."""
    data = tmp_path / "data"
    for i in range(2):
        write_pair(str(data / "g" / f"d{i}"), f"d{i}", seed=i)
    output = tmp_path / "out"
    glob = data / "*" / "*" / "*.png"
    assert preprocess(glob, output, *ONE_WORKER) == 0
    before = {p.name: p.read_bytes() for p in output.iterdir() if p.is_file()}
    for i in range(2, 40):
        page, label = draw_page(600, 800, seed=i), draw_label(600, 800)  # big: a slow first run
        write_pair(str(data / "g" / f"d{i}"), f"d{i}", page=page, label=label)

    command = [
        sys.executable,
        "-m",
        "sciencebeam_gym.preprocess.pipeline",
        "--data_paths",
        str(glob),
    ]
    command += ["--output_path", str(output), "--direct_num_workers", "1"]
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(output.glob(TEMP_FOLDER_PREFIX + "*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the run finished before it could be interrupted"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # the killed run's lock file stays behind (not held: the kernel released it)
    after = {
        p.name: p.read_bytes() for p in output.iterdir() if p.is_file() and p.name != LOCK_NAME
    }
    assert after == before
    assert len(read_records(output)) == 2


@pytest.mark.slow
def test_command_line_shows_progress_and_summary(tmp_path):
    data = tmp_path / "data"
    for i in range(3):
        write_pair(str(data / "g" / f"d{i}"), f"d{i}", seed=i)
    command = [sys.executable, "-m", "sciencebeam_gym.preprocess.pipeline"]
    command += [
        "--data_paths",
        str(data / "*" / "*" / "*.png"),
        "--output_path",
        str(tmp_path / "o"),
    ]
    env = dict(os.environ, GYM_PROGRESS_SECONDS="0")
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pairs done (of 3 in all)" in result.stderr
    assert "3 pairs found, 3 written, 0 skipped" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_tensorflow_reads_the_pipeline_output(bad_input_run, color_map):
    tf = pytest.importorskip("tensorflow")
    shards = sorted(str(p) for p in bad_input_run["output"].glob("*.tfrecord.gz"))
    spec = {key: tf.io.FixedLenFeature([], tf.string) for key in records.FEATURE_KEYS}
    dataset = tf.data.TFRecordDataset(shards, compression_type="GZIP")
    parsed = [tf.io.parse_single_example(record, spec) for record in dataset]
    assert len(parsed) == len(bad_input_run["good"])
    pages = {page: annotation for page, annotation in bad_input_run["good"].values()}
    for example in parsed:
        page_uri = example[records.INPUT_URI].numpy().decode("utf-8")
        assert example[records.ANNOTATION_URI].numpy().decode("utf-8") == pages[page_uri]
        for key in (records.INPUT_IMAGE, records.ANNOTATION_IMAGE):
            image = tf.io.decode_png(example[key], channels=0)
            assert tuple(image.shape) == (SIZE[1], SIZE[0], 3)
        annotation = tf.io.decode_png(example[records.ANNOTATION_IMAGE]).numpy()
        colours = {tuple(int(v) for v in c) for c in annotation.reshape(-1, 3)}
        assert colours <= {(0, 0, 0), *color_map.colors}


@pytest.mark.slow
def test_disk_full_is_one_line_naming_the_folder_and_keeps_the_old_output(
    tmp_path, capsys, caplog, monkeypatch
):
    from sciencebeam_gym.preprocess.tfrecord_sink import GzipTFRecordSink

    write_pair(str(tmp_path / "data" / "g" / "a"), "a")
    glob, output = tmp_path / "data" / "*" / "*" / "*.png", tmp_path / "out"
    assert preprocess(glob, output, *ONE_WORKER) == 0
    before = {p.name: p.read_bytes() for p in output.iterdir() if p.is_file()}
    capsys.readouterr()

    def no_space(self, file_handle, encoded_value):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(GzipTFRecordSink, "write_encoded_record", no_space)
    assert preprocess(glob, output) == 1  # local worker threads, which print their tracebacks
    err = capsys.readouterr().err
    assert f"error: disk full while writing to {output}: free some space" in err
    assert "Traceback" not in err and "Errno" not in err
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert {p.name: p.read_bytes() for p in output.iterdir() if p.is_file()} == before
    assert not list(output.glob(TEMP_FOLDER_PREFIX + "*"))


@pytest.mark.slow
def test_glob_characters_in_the_output_path_match_only_themselves(tmp_path):
    data = tmp_path / "data"
    for i in range(3):
        write_pair(str(data / "g" / f"d{i}"), f"d{i}", seed=i)
    output = tmp_path / "out[1]"
    glob = data / "*" / "*" / "*.png"
    assert preprocess(glob, output, "--num_shards", "2", *ONE_WORKER) == 0
    assert preprocess(glob, output, "--num_shards", "1", *ONE_WORKER) == 0
    assert [p.name for p in output.glob("*.tfrecord.gz")] == ["part-00000-of-00001.tfrecord.gz"]
    assert len(read_records(output)) == 3
    assert read_report(output)["shards"] == ["part-00000-of-00001.tfrecord.gz"]


def test_annotation_values_outside_the_colour_map_are_reported_or_skipped(tmp_path, capsys):
    # Grey 200 is no class of color_map.conf: such pixels used to become background silently.
    data = tmp_path / "data"
    few = draw_label()
    few[:4, :10] = 200  # 40 of 19200 pixels, 0.2%: kept, listed in the report
    many = draw_label()
    many[:40, :] = 200  # 25%: skipped
    kept, _ = write_pair(str(data / "few"), "few", label=few)
    write_pair(str(data / "many"), "many", label=many)
    write_pair(str(data / "clean"), "clean")
    output = tmp_path / "out"
    assert preprocess(data / "*" / "*.png", output, *ONE_WORKER, "--max_error_rate", "0.5") == 0
    report = read_report(output)
    assert report["records_written"] == 2
    assert report["skipped_by_reason"] == {images.UNMAPPED_COLORS: 1}
    assert "many-page1.annot.png" in report["skipped"][0]["path"]
    assert "values outside the colour map" in report["skipped"][0]["message"]
    assert [item["path"] for item in report["unmapped"]] == [kept.replace("-page1", "-page1.annot")]
    assert report["unmapped"][0]["examples"] == [[200, 200, 200]]
    assert 0 < report["unmapped"][0]["fraction"] < 0.01
    assert "pixels outside the colour map" in capsys.readouterr().err


@pytest.mark.slow
def test_second_run_on_a_busy_output_folder_is_refused_and_the_first_completes(tmp_path, capsys):
    """Two preprocess.sh on one folder: the second must not delete the first's live temp folder."""
    data = tmp_path / "data"
    for i in range(30):
        page, label = draw_page(600, 800, seed=i), draw_label(600, 800)  # big: a slow first run
        write_pair(str(data / "g" / f"d{i}"), f"d{i}", page=page, label=label)
    output = tmp_path / "out"
    glob = data / "*" / "*" / "*.png"
    command = [sys.executable, "-m", "sciencebeam_gym.preprocess.pipeline"]
    command += ["--data_paths", str(glob), "--output_path", str(output), *ONE_WORKER]
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(output.glob(TEMP_FOLDER_PREFIX + "*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    live = list(output.glob(TEMP_FOLDER_PREFIX + "*"))
    assert live and first.poll() is None, "the first run finished before the second started"

    assert preprocess(glob, output, *ONE_WORKER) == 2
    err = capsys.readouterr().err
    assert "in use by another run" in err and f"PID {first.pid}" in err
    assert all(folder.exists() for folder in live)

    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err[-2000:]
    assert len(read_records(output)) == 30
    assert not (output / LOCK_NAME).exists()


@pytest.mark.parametrize("inside", [False, True])
def test_a_read_only_output_folder_is_one_line_naming_it(tmp_path, capsys, inside):
    from tests.read_only import read_only

    write_pair(str(tmp_path / "data" / "g" / "a"), "a")
    with read_only(tmp_path / "out") as folder:
        output = folder / "records" if inside else folder
        assert preprocess(tmp_path / "data" / "*" / "*" / "*.png", output) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "OSError" not in err
    assert str(output) in err and "cannot be written" in err
