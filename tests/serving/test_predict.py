"""The predict command: image, folder and PDF input, overlay and boxes, and every bad input."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from PIL import Image

from sciencebeam_gym.serving import predict
from sciencebeam_gym.serving.metadata import METADATA_FILENAME, ModelInfo
from sciencebeam_gym.serving.regions import class_boxes, connected_regions

from .conftest import draw_page, read_json


def class_colors(exported) -> set[tuple[int, int, int]]:
    metadata = read_json(exported / METADATA_FILENAME)
    return {(0, 0, 0)} | {tuple(c["color"]) for c in metadata["classes"]}


def colors_in(image: np.ndarray) -> set[tuple[int, int, int]]:
    return {tuple(c) for c in np.unique(image.reshape(-1, 3), axis=0).tolist()}


def all_files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_page_png_gives_a_coloured_annotation_at_its_size(exported, page_file, capsys):
    assert predict.main([str(page_file), "--saved_model", str(exported)]) == 0
    output = page_file.with_name("doc-page1.out.png")
    assert str(output) in capsys.readouterr().out
    painted = np.asarray(Image.open(output).convert("RGB"))
    assert painted.shape[:2] == (120, 90)  # the input's height and width
    assert colors_in(painted) <= class_colors(exported)
    assert all_files(page_file.parent) == ["doc-page1.out.png", "doc-page1.png"]


def test_overlay_and_boxes(exported, page_file, tmp_path):
    output = tmp_path / "result.png"
    args = [str(page_file), str(output), "--saved_model", str(exported), "--overlay", "--boxes"]
    assert predict.main([*args, "--min_box_pixels", "1"]) == 0
    painted = np.asarray(Image.open(output).convert("RGB"))
    page = np.asarray(Image.open(page_file).convert("RGB"))
    overlay = np.asarray(Image.open(tmp_path / "result.overlay.png").convert("RGB"))
    background = (painted == 0).all(-1)
    # the page shows through unchanged where no class was found, half-mixed where one was
    np.testing.assert_array_equal(overlay[background], page[background])
    expected = np.round(page * 0.5 + painted * 0.5).astype(np.uint8)
    np.testing.assert_array_equal(overlay[~background], expected[~background])

    boxes = read_json(tmp_path / "result.boxes.json")
    assert (boxes["width"], boxes["height"]) == (90, 120)
    labels = {
        c["label"]: tuple(c["color"]) for c in read_json(exported / METADATA_FILENAME)["classes"]
    }
    assert boxes["classes"], "a model that paints classes yields boxes"
    for label, entries in boxes["classes"].items():
        for entry in entries:
            x0, y0, x1, y1 = entry["box"]
            assert 0 <= x0 < x1 <= 90 and 0 <= y0 < y1 <= 120
            assert 0.0 < entry["score"] <= 1.0
            # the region's class colour is painted inside its box
            inside = painted[y0:y1, x0:x1].reshape(-1, 3)
            assert (inside == labels[label]).all(-1).any()
    painted_labels = {label for label, color in labels.items() if (painted == color).all(-1).any()}
    assert set(boxes["classes"]) == painted_labels


def test_folder_input_skips_annotations_and_outputs(exported, tmp_path):
    folder = tmp_path / "pages"
    (folder / "a" / "doc1").mkdir(parents=True)
    (folder / "b").mkdir()
    draw_page(seed=1).save(folder / "a" / "doc1" / "doc1-page1.png")
    draw_page(60, 80, seed=2).save(folder / "b" / "doc2-page1.png")
    Image.new("RGB", (60, 80)).save(folder / "b" / "doc2-page1.annot.png")
    Image.new("RGB", (60, 80)).save(folder / "b" / "old.out.png")
    out = tmp_path / "out"
    assert predict.main([str(folder), str(out), "--saved_model", str(exported)]) == 0
    assert all_files(out) == ["a/doc1/doc1-page1.out.png", "b/doc2-page1.out.png"]
    assert Image.open(out / "b" / "doc2-page1.out.png").size == (60, 80)
    first = tmp_path / "first"
    args = [str(folder), str(first), "--saved_model", str(exported), "--max_pages", "1"]
    assert predict.main(args) == 0
    assert all_files(first) == ["a/doc1/doc1-page1.out.png"]


def make_pdf(path, pages: int = 2) -> None:
    images = [draw_page(200, 260, seed=s) for s in range(pages)]
    images[0].save(path, format="PDF", save_all=True, append_images=images[1:], resolution=72)


def test_pdf_input_renders_every_page(exported, tmp_path):
    pdf = tmp_path / "article.pdf"
    make_pdf(pdf)
    out = tmp_path / "out"
    args = [str(pdf), str(out), "--saved_model", str(exported), "--pdf_dpi", "36"]
    assert predict.main([*args, "--overlay"]) == 0
    assert all_files(out) == [
        "article-page1.out.png",
        "article-page1.overlay.png",
        "article-page2.out.png",
        "article-page2.overlay.png",
    ]
    # 200 x 260 points at 36 dpi
    assert Image.open(out / "article-page1.out.png").size == (100, 130)


def test_predict_from_the_checkpoint_when_nothing_is_exported(trained_dir, page_file, tmp_path):
    args = [
        str(page_file),
        "--export_path",
        str(tmp_path / "none"),
        "--model_path",
        str(trained_dir),
    ]
    assert predict.main(args) == 0
    assert page_file.with_name("doc-page1.out.png").exists()


def expect_failure(args, capsys, *words) -> str:
    assert predict.main([str(a) for a in args]) == 2
    message = capsys.readouterr().err
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.png", b"", ["empty"]),
        ("text.png", b"this is not an image at all", ["not an image"]),
        ("cut.png", None, ["truncated"]),
    ],
)
def test_bad_image_fails_without_output(exported, tmp_path, capsys, name, content, words):
    path = tmp_path / name
    if content is None:  # a real PNG cut in half
        draw_page().save(path)
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    else:
        path.write_bytes(content)
    expect_failure([path, "--saved_model", exported], capsys, str(path), *words)
    assert all_files(tmp_path) == [name]


def test_missing_input_fails(exported, tmp_path, capsys):
    expect_failure([tmp_path / "nope.png", "--saved_model", exported], capsys, "no such file")
    assert all_files(tmp_path) == []


def test_folder_with_one_broken_page_writes_nothing(exported, tmp_path, capsys):
    folder = tmp_path / "pages"
    folder.mkdir()
    for name in ("a-page1.png", "b-page1.png", "d-page1.png"):
        draw_page().save(folder / name)
    (folder / "c-page1.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    expect_failure([folder, "--saved_model", exported, "--batch_size", "1"], capsys, "c-page1.png")
    assert all_files(folder) == ["a-page1.png", "b-page1.png", "c-page1.png", "d-page1.png"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"%PDF-1.4\n this is no PDF body", ["does not open"]),
        (b"hello", ["not a PDF"]),
        (b"", ["empty"]),
    ],
)
def test_pdf_that_does_not_open_fails(exported, tmp_path, capsys, content, words):
    pdf = tmp_path / "broken.pdf"
    pdf.write_bytes(content)
    expect_failure([pdf, "--saved_model", exported], capsys, str(pdf), *words)
    assert all_files(tmp_path) == ["broken.pdf"]


def test_export_path_without_a_model_fails(page_file, tmp_path, capsys):
    empty = tmp_path / "export"
    empty.mkdir()
    expect_failure([page_file, "--saved_model", empty], capsys, str(empty), "save-model.sh")
    expect_failure([page_file, "--export_path", empty], capsys, "no model")
    missing = tmp_path / "training"
    args = [page_file, "--export_path", empty, "--model_path", missing]
    expect_failure(args, capsys, f"no training folder at {missing}", f"export at {empty}")
    assert all_files(tmp_path) == ["doc-page1.png"]


def test_saved_model_of_another_class_set_fails(exported, page_file, other_color_map, capsys):
    args = [page_file, "--saved_model", exported, "--color_map", other_color_map]
    expect_failure(args, capsys, "another class set", str(other_color_map))
    assert all_files(page_file.parent) == ["doc-page1.png", "other_color_map.conf"]


def test_connected_regions_of_a_drawn_class_map():
    classes = np.zeros((8, 10), dtype=np.uint8)
    classes[1:3, 1:4] = 1  # a block of class 1
    classes[3, 4] = 1  # touching it diagonally: the same region
    classes[6:8, 0:2] = 1  # another block of class 1, apart
    classes[1:3, 4:6] = 2  # class 2 right beside the first block: a region of its own
    classes[5:8, 8] = 2
    classes[7, 6:9] = 2  # an L shape of class 2
    region_map, regions = connected_regions(classes)
    found = sorted((r["class_index"], tuple(r["box"]), r["pixels"]) for r in regions)
    assert found == [
        (1, (0, 6, 2, 8), 4),
        (1, (1, 1, 5, 4), 7),
        (2, (4, 1, 6, 3), 4),
        (2, (6, 5, 9, 8), 5),
    ]
    assert (region_map > 0).sum() == (classes > 0).sum()
    assert len(np.unique(region_map[classes > 0])) == 4


def test_class_boxes_scale_to_the_input_size():
    info = ModelInfo.from_metadata(
        {
            "format": "sciencebeam-gym-export",
            "image_size": 4,
            "base_loss": "L1",
            "use_separate_channels": True,
            "classes": [{"key": 1, "label": "title", "color": [255, 0, 0]}],
        }
    )
    classes = np.zeros((4, 4), dtype=np.uint8)
    classes[1:3, 2:4] = 1
    probabilities = np.zeros((4, 4, 2), dtype=np.float32)
    probabilities[..., 0] = 1.0
    probabilities[1:3, 2:4] = [0.2, 0.8]
    boxes = class_boxes(classes, probabilities, info, size=(40, 100))
    assert boxes == {"title": [{"box": [20, 25, 40, 75], "score": 0.8, "pixels": 4}]}


def test_output_folder_that_does_not_exist_is_made(exported, page_file, tmp_path, capsys):
    for name in ("newdir/", "other"):
        folder = tmp_path / "made" / name
        assert predict.main([str(page_file), str(folder), "--saved_model", str(exported)]) == 0
        assert all_files(tmp_path / "made" / name.rstrip("/")) == ["doc-page1.out.png"]


def data_split(root) -> tuple:
    """A generate-data.sh layout: <root>/test/<group>/<doc>/<doc>-page1.png + .annot.png."""
    doc = root / "test" / "generated" / "doc1"
    doc.mkdir(parents=True)
    draw_page(seed=3).save(doc / "doc1-page1.png")
    Image.new("L", (90, 120)).save(doc / "doc1-page1.annot.png")
    return root / "test", doc


def test_predicting_into_a_data_split_is_refused(exported, tmp_path, capsys):
    split, doc = data_split(tmp_path / "data")
    before = all_files(split)
    message = expect_failure([split, "--saved_model", exported], capsys, "data split", "annot")
    assert "predictions/" in message  # where to write instead
    expect_failure([doc / "doc1-page1.png", "--saved_model", exported], capsys, "data split")
    assert all_files(split) == before


def test_an_empty_folder_inside_data_path_splits_is_refused(exported, page_file, tmp_path, capsys):
    data = tmp_path / "data"
    (data / "train").mkdir(parents=True)
    args = [page_file, data / "train" / "mine", "--saved_model", exported, "--data_path", data]
    expect_failure(args, capsys, "data split", str(data / "train"))
    assert all_files(data) == []
    # beside the splits is fine
    good = [page_file, data / "predictions", "--saved_model", exported, "--data_path", data]
    assert predict.main([str(a) for a in good]) == 0
    assert all_files(data) == ["predictions/doc-page1.out.png"]


def test_a_giant_pdf_page_is_predicted_within_the_pixel_cap(exported, tmp_path, caplog):
    from tests.document.test_pdf import blank_pdf

    pdf = tmp_path / "huge.pdf"
    pdf.write_bytes(blank_pdf(1, 14400, 14400))
    args = [str(pdf), str(tmp_path / "out"), "--saved_model", str(exported)]
    assert predict.main([*args, "--max_page_pixels", "40000"]) == 0
    output = Image.open(tmp_path / "out" / "huge-page1.out.png")
    assert output.width * output.height <= 40000 and output.width > 150
    assert "--max_page_pixels" in caplog.text


def test_pending_output_folders_of_killed_runs_are_removed_and_live_ones_kept(
    exported, page_file, tmp_path, monkeypatch
):
    import tempfile

    from sciencebeam_gym.serving import temp_folders
    from sciencebeam_gym.serving.outputs import PENDING_PREFIX

    from .test_export import dead_pid

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    host = temp_folders._host()
    dead = temp / f"{PENDING_PREFIX}{host}-{dead_pid()}-0123abcd"
    live = temp / f"{PENDING_PREFIX}{host}-{os.getppid()}-0123abcd"
    legacy = temp / "predict-ab12cd34"  # an earlier version's: numbered pending files
    not_ours = temp / "predict-zz12cd34"  # same kind of name, other files: someone else's
    for folder in (dead, live, legacy, not_ours):
        folder.mkdir()
    (legacy / "0").write_bytes(b"png")
    (not_ours / "notes.txt").write_text("keep")
    old = time.time() - temp_folders.STALE_AGE_S - 60
    for folder in (legacy, not_ours):
        os.utime(folder, (old, old))
    assert predict.main([str(page_file), "--saved_model", str(exported)]) == 0
    assert sorted(p.name for p in temp.iterdir()) == sorted([live.name, not_ours.name])


def test_pdf_pages_are_rendered_at_the_dpi_the_model_was_trained_at(trained_dir, tmp_path):
    from sciencebeam_gym.serving import export

    exported_at_36 = tmp_path / "export"
    args = ["--model_path", str(trained_dir), "--export_path", str(exported_at_36), "--dpi", "36"]
    assert export.main(args) == 0
    pdf = tmp_path / "article.pdf"
    make_pdf(pdf, pages=1)
    assert predict.main([str(pdf), str(tmp_path / "a"), "--saved_model", str(exported_at_36)]) == 0
    # 200 x 260 points at the export's 36 dpi
    assert Image.open(tmp_path / "a" / "article-page1.out.png").size == (100, 130)
    # an explicit --pdf_dpi wins
    args = [str(pdf), str(tmp_path / "b"), "--saved_model", str(exported_at_36), "--pdf_dpi", "72"]
    assert predict.main(args) == 0
    assert Image.open(tmp_path / "b" / "article-page1.out.png").size == (200, 260)
