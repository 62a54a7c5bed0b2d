import gzip
import json

import numpy as np
from PIL import Image

from sciencebeam_gym import records
from sciencebeam_gym.color_map import UNKNOWN_COLOR
from sciencebeam_gym.preprocess import inspect_records
from sciencebeam_gym.preprocess.pipeline import REPORT_NAME
from tests.preprocess.conftest import draw_page, png_bytes


def write_split(folder, color_map, count, class_key=1, block=10, size=32):
    """Records whose annotation is black with one block x block square of one class colour."""
    folder.mkdir(parents=True)
    colour = color_map.classes[color_map.keys.index(class_key)].color
    frames = b""
    for i in range(count):
        annotation = np.zeros((size, size, 3), dtype=np.uint8)
        annotation[:block, :block] = colour
        example = records.encode_example(
            {
                records.INPUT_URI: f"data/doc{i}-page1.png",
                records.ANNOTATION_URI: f"data/doc{i}-page1.annot.png",
                records.INPUT_IMAGE: png_bytes(draw_page(size, size, seed=i)),
                records.ANNOTATION_IMAGE: png_bytes(annotation),
            }
        )
        frames += records.frame_record(example)
    (folder / "part-00000-of-00001.tfrecord.gz").write_bytes(gzip.compress(frames))


def test_counts_keys_examples_and_class_frequencies(tmp_path, color_map, capsys):
    preproc = tmp_path / "preproc"
    write_split(preproc / "train", color_map, 5, class_key=1)
    write_split(preproc / "test", color_map, 2, class_key=24, block=4)
    (preproc / "train" / REPORT_NAME).write_text(json.dumps({"status": "ok"}))
    out = tmp_path / "inspect"
    argv = ["--preproc_path", str(preproc), "--output_dir", str(out), "--examples", "2"]
    assert inspect_records.main(argv) == 0

    summary = json.loads((out / "summary.json").read_text())
    assert summary["train"]["records"] == 5 and summary["test"]["records"] == 2
    assert summary["train"]["feature_keys"] == sorted(records.FEATURE_KEYS)
    assert summary["train"]["image_sizes"] == {"32x32": 5}
    train = summary["train"]["class_pixel_frequencies"]
    assert train[color_map.labels[0]]["pixels"] == 5 * 100
    assert train["background"]["pixels"] == 5 * (32 * 32 - 100)
    assert train[inspect_records.UNMAPPED_LABEL]["pixels"] == 0
    test = summary["test"]["class_pixel_frequencies"]
    assert test[color_map.labels[-1]]["pixels"] == 2 * 16
    assert summary["train"]["run_complete"] and not summary["test"]["run_complete"]

    examples = sorted(p.name for p in out.glob("*.png"))
    assert examples == ["test-01.png", "test-02.png", "train-01.png", "train-02.png"]
    assert Image.open(out / "train-01.png").size == (32 + 4 + 32, 32)

    printed = capsys.readouterr().out
    assert "train: 5 records" in printed and "test: 2 records" in printed
    assert "no preprocess-report.json" in printed  # the test split has no report
    assert color_map.labels[0] in printed


def test_colours_outside_the_map_are_counted_apart(color_map):
    annotation = np.zeros((4, 4, 3), dtype=np.uint8)
    annotation[0, 0] = (1, 2, 3)
    annotation[1, 1] = color_map.colors[2]
    annotation[2, 2] = UNKNOWN_COLOR
    counts, unmapped = inspect_records.class_pixel_counts(annotation, color_map)
    assert unmapped == 1
    assert counts[0] == 13 and counts[3] == 1
    assert counts[-1] == 1 and len(counts) == color_map.num_classes + 2  # unknown last


def test_no_records_is_an_error(tmp_path, capsys):
    argv = ["--preproc_path", str(tmp_path), "--output_dir", str(tmp_path / "o")]
    assert inspect_records.main(argv) == 2
    assert "run ./preprocess.sh first" in capsys.readouterr().err
