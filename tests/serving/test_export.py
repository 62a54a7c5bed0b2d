"""Export: the SavedModel and its metadata, atomic replacement, and the refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from sciencebeam_gym import model_contract
from sciencebeam_gym.color_map import default_color_map_path, load_color_map
from sciencebeam_gym.serving import export
from sciencebeam_gym.serving.metadata import METADATA_FILENAME, ModelInfo
from sciencebeam_gym.trainer import model, model_dir

from .conftest import (
    IMAGE_SIZE,
    assert_same_classes,
    draw_page,
    make_model_dir,
    read_json,
    run_module,
)


def test_export_writes_a_saved_model_and_its_metadata(exported, trained_dir):
    assert (exported / "saved_model.pb").is_file()
    assert (exported / "variables").is_dir()
    metadata = read_json(exported / METADATA_FILENAME)
    color_map = load_color_map(default_color_map_path())
    assert [c["label"] for c in metadata["classes"]] == color_map.labels
    assert [tuple(c["color"]) for c in metadata["classes"]] == color_map.colors
    assert metadata["image_size"] == IMAGE_SIZE
    assert metadata["training_step"] == 7
    assert metadata["source_checkpoint"] == model_dir.latest_checkpoint(str(trained_dir))
    assert export.is_complete_export(str(exported))
    # no partial export is left beside it
    assert sorted(p.name for p in exported.parent.iterdir()) == ["export"]


def test_export_replaces_an_earlier_export_whole(tmp_path, trained_dir):
    target = tmp_path / "export"
    target.mkdir()
    (target / "stale.txt").write_text("from an earlier export")
    assert export.main(["--model_path", str(trained_dir), "--export_path", str(target)]) == 0
    assert not (target / "stale.txt").exists()
    assert export.is_complete_export(str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_failed_export_leaves_no_export_and_keeps_the_earlier_one(tmp_path, exported):
    color_map = load_color_map(default_color_map_path())
    # a generator for 64x64 pages described as a 32x32 model cannot be traced
    generator = model.build_generator(64, 3, color_map.num_classes + 1, ngf=4)
    config = {"image_size": IMAGE_SIZE, "base_loss": "cross_entropy", "use_separate_channels": True}
    info = ModelInfo.from_config(config, color_map)
    fresh = tmp_path / "fresh"
    with pytest.raises(ValueError):
        export.export_saved_model(generator, info, str(fresh))
    assert list(tmp_path.iterdir()) == []
    # over an existing export: the earlier one stays as it was
    before = (exported / "saved_model.pb").read_bytes()
    with pytest.raises(ValueError):
        export.export_saved_model(generator, info, str(exported))
    assert (exported / "saved_model.pb").read_bytes() == before
    assert sorted(p.name for p in exported.parent.iterdir()) == ["export"]


def test_export_of_a_folder_without_a_model_fails_clearly(tmp_path, capsys):
    empty = tmp_path / "training"
    empty.mkdir()
    target = tmp_path / "export"
    assert export.main(["--model_path", str(empty), "--export_path", str(target)]) == 2
    message = capsys.readouterr().err
    assert "config.json" in message and str(empty) in message
    assert not target.exists()


def test_export_of_a_missing_folder_fails_clearly(tmp_path, capsys):
    target = tmp_path / "export"
    missing = tmp_path / "nothing-here"
    assert export.main(["--model_path", str(missing), "--export_path", str(target)]) == 2
    assert "no training folder" in capsys.readouterr().err
    assert not target.exists()


def test_export_with_a_config_but_no_checkpoint_fails_clearly(tmp_path, trained_dir, capsys):
    folder = tmp_path / "training"
    folder.mkdir()
    (folder / "config.json").write_bytes((trained_dir / "config.json").read_bytes())
    target = tmp_path / "export"
    assert export.main(["--model_path", str(folder), "--export_path", str(target)]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert not target.exists()


def test_export_against_another_colour_map_is_refused(
    tmp_path, trained_dir, other_color_map, capsys
):
    target = tmp_path / "export"
    args = ["--model_path", str(trained_dir), "--export_path", str(target)]
    assert export.main([*args, "--color_map", str(other_color_map)]) == 2
    message = capsys.readouterr().err
    assert "another class set" in message and str(other_color_map) in message
    assert not target.exists()


FRESH_PROCESS_PREDICT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tensorflow as tf
    page = np.load(sys.argv[2])
    loaded = tf.saved_model.load(sys.argv[1])
    outputs = loaded.signatures["serving_default"](images=tf.constant(page))
    np.savez(sys.argv[3], **{key: value.numpy() for key, value in outputs.items()})
    """
)


@pytest.mark.slow
# per-class tanh channels (L1, separate channels) are covered by test_end_to_end
@pytest.mark.parametrize(("base_loss", "separate"), [("cross_entropy", True), ("L1", False)])
def test_saved_model_in_a_fresh_process_equals_the_checkpoint(tmp_path, base_loss, separate):
    import tensorflow as tf

    from sciencebeam_gym.serving.inference import class_probabilities

    training = make_model_dir(tmp_path / "training", base_loss, separate)
    target = tmp_path / "export"
    result = run_module(
        "sciencebeam_gym.serving.export",
        "--model_path",
        str(training),
        "--export_path",
        str(target),
    )
    assert result.returncode == 0, result.stderr
    pages = np.stack([np.asarray(draw_page(IMAGE_SIZE, IMAGE_SIZE, seed=s)) for s in range(3)])
    np.save(tmp_path / "pages.npy", pages)
    script = tmp_path / "load_and_predict.py"
    script.write_text(FRESH_PROCESS_PREDICT)
    result = run_module_script(script, target, tmp_path / "pages.npy", tmp_path / "out.npz")
    assert result.returncode == 0, result.stderr
    served = np.load(tmp_path / "out.npz")

    # the checkpoint, restored here and run eagerly with the trainer's own decoding
    generator, config, _step = model_dir.load_generator(str(training))
    raw = generator(tf.cast(pages, tf.float32) / 127.5 - 1.0, training=False)
    colors = model_dir.classes_colors(config)
    classes = model_contract.predict_class_index(raw, base_loss, separate, colors).numpy()
    info = ModelInfo.from_config(config)
    probabilities = class_probabilities(raw, info).numpy()

    assert_same_classes(served["classes"], classes, probabilities)
    np.testing.assert_array_equal(served["colors"], info.palette[served["classes"]])
    np.testing.assert_allclose(served["probabilities"], probabilities, rtol=0, atol=1e-6)
    # the model answers each page differently, so equality is not that of constants
    assert np.abs(probabilities[0] - probabilities[1]).max() > 1e-4


def run_module_script(script, *args):
    import subprocess
    import sys

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def dead_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_partial_exports_of_killed_runs_are_removed_and_live_ones_kept(tmp_path, trained_dir):
    from sciencebeam_gym.serving import temp_folders

    export_path = tmp_path / "export"
    host = temp_folders._host()
    dead = tmp_path / f".export.tmp-{host}-{dead_pid()}-0123abcd"
    live = tmp_path / f".export.tmp-{host}-{os.getppid()}-0123abcd"
    legacy_old, legacy_new = tmp_path / ".export.tmp-aaaa1111", tmp_path / ".export.tmp-bbbb2222"
    replaced = tmp_path / f"export.old-{host}-{dead_pid()}-0123abcd"
    for folder in (dead, live, legacy_old, legacy_new, replaced):
        (folder / "variables").mkdir(parents=True)
    old = time.time() - temp_folders.STALE_AGE_S - 60
    os.utime(legacy_old, (old, old))
    args = ["--model_path", str(trained_dir), "--export_path", str(export_path)]
    assert export.main(args) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["export", live.name, legacy_new.name]
    )


def test_the_dpi_of_the_training_pages_is_kept_in_the_metadata(tmp_path, exported, trained_dir):
    from sciencebeam_gym.document.pdf import DEFAULT_DPI

    assert read_json(exported / METADATA_FILENAME)["dpi"] == DEFAULT_DPI
    target = tmp_path / "export"
    args = ["--model_path", str(trained_dir), "--export_path", str(target), "--dpi", "72"]
    assert export.main(args) == 0
    metadata = read_json(target / METADATA_FILENAME)
    assert metadata["dpi"] == 72
    assert ModelInfo.from_metadata(metadata).dpi == 72
    # an export made before the dpi was kept was rendered at the one default
    older = {key: value for key, value in metadata.items() if key != "dpi"}
    assert ModelInfo.from_metadata(older).dpi == DEFAULT_DPI


@pytest.mark.parametrize("dpi", ["0", "-5", "many", "nan", "inf"])
def test_a_dpi_that_is_not_a_positive_number_is_refused(tmp_path, trained_dir, dpi, capsys):
    target = tmp_path / "export"
    args = ["--model_path", str(trained_dir), "--export_path", str(target), "--dpi", dpi]
    with pytest.raises(SystemExit) as stopped:
        export.main(args)
    assert stopped.value.code == 2
    assert "--dpi" in capsys.readouterr().err
    assert not target.exists()
