"""Train -> checkpoint -> resume -> evaluate on the tiny corpus, in process (real TensorFlow)."""

import glob
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from sciencebeam_gym.trainer import evaluate_checkpoint, model_dir, task
from tests.trainer import fixtures
from tests.trainer.conftest import IMAGE_SIZE, train_args


def checkpoint_steps(output_path) -> list[int]:
    return sorted(
        int(path.rsplit("-", 1)[1].split(".")[0])
        for path in glob.glob(os.path.join(str(output_path), "checkpoints", "ckpt-*.index"))
    )


def event_tags(directory) -> set[str]:
    tags = set()
    for path in glob.glob(os.path.join(str(directory), "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    return tags


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    """A model trained for 4 steps (checkpoints at 2 and 4, evaluation at 4)."""
    output = tmp_path_factory.mktemp("model")
    status = task.main(
        train_args(
            tiny_data, output, "--base_loss", "weighted_cross_entropy", "--write_predictions"
        )
    )
    assert status == 0
    return output


def test_training_writes_checkpoints_config_and_events(trained):
    assert checkpoint_steps(trained) == [2, 4]
    assert sorted(os.listdir(trained / "predictions")) == [
        "page-0.png",
        "page-1.png",
    ]  # eval_set_size 2
    saved = json.loads((trained / "config.json").read_text())
    assert saved["max_steps"] == 4 and saved["ngf"] == 4
    assert [c["label"] for c in saved["classes"]] == ["title", "author", "body"]
    assert len(saved["class_weight_values"]) == 4
    train_tags = event_tags(trained / "train")
    assert {"loss/gen_total", "loss/gen_base", "learning_rate", "images_per_sec"} <= train_tags
    eval_tags = event_tags(trained / "eval")
    assert {
        "eval/macro_f1",
        "eval/pixel_accuracy",
        "eval/unknown-group/macro_f1",
        "eval/unknown-group/pixel_accuracy",
        "input",
        "target",
        "output",
        "output_channels",
        "target_channels",
        "confusion_matrix",
    } <= eval_tags


def test_load_generator_restores_the_latest_step(trained):
    generator, config, step = model_dir.load_generator(str(trained))
    assert step == 4
    assert generator.output_shape == (None, 32, 32, 4)  # 3 classes + background
    assert config["base_loss"] == "weighted_cross_entropy"


def test_rerun_resumes_and_max_steps_reached_exits_0(trained, tiny_data, capsys):
    args = train_args(tiny_data, trained, "--base_loss", "weighted_cross_entropy")
    assert task.main([*args, "--max_steps", "6"]) == 0
    err = capsys.readouterr().err
    assert "resuming from step 4" in err
    assert checkpoint_steps(trained)[-1] == 6
    # optimiser state came back too: Adam's step counter continued from 4
    reader = tf.train.load_checkpoint(str(trained / "checkpoints" / "ckpt-6"))
    iterations = [
        k
        for k in reader.get_variable_to_shape_map()
        if k.startswith("generator_optimizer/") and "iteration" in k
    ]
    assert iterations and int(reader.get_tensor(iterations[0])) == 6
    assert task.main([*args, "--max_steps", "6"]) == 0
    assert "already trained to step 6" in capsys.readouterr().err


def test_eval_writes_metrics_in_the_issue_format(trained, tiny_data, tmp_path):
    output = tmp_path / "eval"
    status = evaluate_checkpoint.main(
        [
            "--model_path",
            str(trained),
            "--eval_data_paths",
            tiny_data["test"],
            "--output_path",
            str(output),
            "--write_predictions",
        ]
    )
    assert status == 0
    metrics = json.loads((output / "metrics.json").read_text())
    assert set(metrics) == {"step", "pixel_accuracy", "macro_f1", "classes", "groups"}
    assert list(metrics["groups"]) == ["unknown-group"]  # the tiny corpus's URIs: doc/page-N.png
    assert isinstance(metrics["step"], int) and metrics["step"] >= 4
    assert set(metrics["classes"]) == {"title", "author", "body"}
    for values in metrics["classes"].values():
        assert set(values) == {"precision", "recall", "f1", "iou", "support"}
        assert isinstance(values["support"], int) and values["support"] > 0
    assert 0.0 <= metrics["macro_f1"] <= 1.0
    matrix = json.loads((output / "confusion_matrix.json").read_text())
    assert sum(map(sum, matrix["matrix"])) == 4 * 32 * 32
    assert (output / "confusion_matrix.png").stat().st_size > 1000
    names = sorted(os.listdir(output / "predictions"))
    assert len(names) == 12 and "page-0.png" in names and "page-0.input.png" in names


def test_eval_scores_each_group_and_the_groups_add_up(trained, tiny_data, tmp_path, capsys):
    folder = tmp_path / "records"
    folder.mkdir()
    for name, count, seed, uri_folder in [
        ("part-0", 3, 7, "data/test/hindawi/doc-1"),
        ("part-1", 2, 8, "gs://bucket/data/test/plos/doc-2"),
    ]:
        fixtures.write_records(
            folder / f"{name}.tfrecord.gz",
            count,
            IMAGE_SIZE,
            tiny_data["colors"],
            seed=seed,
            folder=uri_folder,
        )
    output = tmp_path / "eval"
    args = ["--model_path", str(trained), "--output_path", str(output), "--batch_size", "4"]
    assert evaluate_checkpoint.main([*args, "--eval_data_paths", str(folder / "*tfrecord*")]) == 0
    summary = json.loads((output / "metrics.json").read_text())
    groups = summary["groups"]
    assert {group: values["pages"] for group, values in groups.items()} == {"hindawi": 3, "plos": 2}
    for values in groups.values():
        assert set(values) == {"macro_f1", "pixel_accuracy", "pages", "classes"}
        assert values["classes"].keys() == summary["classes"].keys()
    for label, values in summary["classes"].items():
        assert sum(g["classes"][label]["support"] for g in groups.values()) == values["support"]
    mean_accuracy = sum(g["pixel_accuracy"] * g["pages"] for g in groups.values()) / 5
    assert mean_accuracy == pytest.approx(summary["pixel_accuracy"])
    matrices = json.loads((output / "confusion_matrix.json").read_text())
    assert sorted(matrices["groups"]) == ["hindawi", "plos"]
    group_sum = np.sum([matrices["groups"][group] for group in groups], axis=0)
    np.testing.assert_array_equal(group_sum, matrices["matrix"])
    assert np.sum(matrices["groups"]["plos"]) == 2 * IMAGE_SIZE * IMAGE_SIZE
    err = capsys.readouterr().err
    table = err[err.index("[eval] by group:") :].splitlines()
    assert table[1].split() == ["group", "pages", "macro", "F1", "pixel", "acc"]
    assert [line.split()[:2] for line in table[2:4]] == [["hindawi", "3"], ["plos", "2"]]

    # the publishers a model trained on left out: only the other group's pages are scored
    excluded = tmp_path / "eval-excluded"
    args[args.index("--output_path") + 1] = str(excluded)
    data_args = ["--eval_data_paths", str(folder / "*tfrecord*"), "--exclude_groups", "hindawi"]
    assert evaluate_checkpoint.main([*args, *data_args]) == 0
    unseen = json.loads((excluded / "metrics.json").read_text())
    assert list(unseen["groups"]) == ["plos"] and unseen["excluded_groups"] == ["hindawi"]
    assert unseen["macro_f1"] == pytest.approx(groups["plos"]["macro_f1"])
    assert unseen["classes"] == groups["plos"]["classes"]


def test_colour_map_of_another_class_count_is_refused(trained, tiny_data, tmp_path, capsys):
    other = tmp_path / "other.conf"
    other.write_text("[color_map]\n1=(255,0,0)\n2=(0,255,0)\n[color_labels]\n1=a\n2=b\n")
    args = train_args(
        tiny_data, trained, "--base_loss", "weighted_cross_entropy", "--max_steps", "20"
    )
    args[args.index("--color_map") + 1] = str(other)
    assert task.main(args) == 2
    assert "has 2 classes but the checkpoint" in capsys.readouterr().err


def test_changed_network_shape_is_refused(trained, tiny_data, capsys):
    args = train_args(tiny_data, trained, "--base_loss", "weighted_cross_entropy", "--ngf", "8")
    assert task.main(args) == 2
    assert "ngf=4" in capsys.readouterr().err


def test_non_finite_loss_stops_and_keeps_the_last_checkpoint(tiny_data, tmp_path, capsys):
    output = tmp_path / "model"
    assert task.main(train_args(tiny_data, output, "--max_steps", "2", "--gan_weight", "0")) == 0
    # a weight beyond float32's range makes the loss infinite at the next step
    args = train_args(
        tiny_data, output, "--max_steps", "4", "--gan_weight", "0", "--l1_weight", "1e39"
    )
    assert task.main(args) == 1
    err = capsys.readouterr().err
    assert "non-finite loss at step 3" in err and "last good checkpoint is step 2" in err
    assert checkpoint_steps(output) == [2]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--train_data_paths", "/nonexistent/*tfrecord*", "no training files match"),
        ("--eval_data_paths", "/nonexistent/*tfrecord*", "no evaluation files match"),
        ("--preset", "fast", "unknown preset"),
        ("--color_map", "/nonexistent/color_map.conf", "cannot read colour map"),
    ],
)
def test_bad_input_exits_2_with_a_message(tiny_data, tmp_path, capsys, flag, value, message):
    args = train_args(tiny_data, tmp_path / "model")
    args[args.index(flag) + 1] = value
    assert task.main(args) == 2
    assert message in capsys.readouterr().err


def test_records_without_completion_report_are_refused_unless_allowed(tiny_data, tmp_path, capsys):
    # an interrupted preprocessing run: shards in place, no preprocess-report.json
    partial = tmp_path / "partial"
    partial.mkdir()
    for path in glob.glob(tiny_data["train"]):
        shutil.copy(path, partial)
    args = train_args(tiny_data, tmp_path / "model", "--max_steps", "1")
    args[args.index("--train_data_paths") + 1] = str(partial / "*tfrecord*")
    assert task.main(args) == 2
    err = capsys.readouterr().err
    assert "no preprocess-report.json in 1 input folder(s)" in err and str(partial) in err
    assert "--allow_incomplete_data" in err
    assert not (tmp_path / "model" / "checkpoints").exists()
    assert task.main([*args, "--allow_incomplete_data"]) == 0
    assert checkpoint_steps(tmp_path / "model") == [1]


def test_rgb_output_with_l1_trains(tiny_data, tmp_path):
    output = tmp_path / "rgb"
    args = train_args(
        tiny_data,
        output,
        "--use_separate_channels",
        "false",
        "--base_loss",
        "L1",
        "--max_steps",
        "2",
    )
    assert task.main(args) == 0
    generator, _, step = model_dir.load_generator(str(output))
    assert step == 2 and generator.output_shape[-1] == 3


def first_norm_variance(output_path, tiny_data) -> tuple[float, float]:
    """(saved moving variance, variance over all training pages) of the first batch norm."""
    import numpy as np

    from sciencebeam_gym.trainer import data

    generator, config, _step = model_dir.load_generator(str(output_path))
    pages = data.make_dataset(
        data.find_files([tiny_data["train"]]), 100, config["image_size"], None, training=False
    )
    pages = tf.concat([batch[0] for batch in pages], axis=0)
    down2 = generator.get_layer("down2")
    inputs = down2.layers[0](generator.get_layer("down1")(pages))
    population = float(np.mean(tf.math.reduce_variance(inputs, [0, 1, 2]).numpy()))
    saved = float(np.mean(down2.layers[1].moving_variance.numpy()))
    return saved, population


def test_checkpoints_hold_recomputed_batch_norm_statistics(tiny_data, tmp_path, capsys):
    # variances start at 1 and these inputs vary ~1000x less: 4 moving-average updates
    # (momentum 0.9) keep ~66% of the 1, recomputed statistics keep none of it
    plain, precise = tmp_path / "plain", tmp_path / "precise"
    assert task.main(train_args(tiny_data, plain, "--bn_recalibration_batches", "0")) == 0
    assert "batch-norm statistics are recomputed" not in capsys.readouterr().err
    assert task.main(train_args(tiny_data, precise, "--bn_recalibration_batches", "6")) == 0
    assert "batch-norm statistics are recomputed from 6" in capsys.readouterr().err

    saved, population = first_norm_variance(precise, tiny_data)
    assert saved == pytest.approx(population, rel=0.3)
    saved_plain, population_plain = first_norm_variance(plain, tiny_data)
    assert saved_plain > 100 * population_plain
