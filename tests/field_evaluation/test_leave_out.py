"""Leave-publisher-out on tiny articles of four publishers: folds of whole publishers, a word
model per fold trained without them, one table per publisher and micro."""

import json

import pytest

from sciencebeam_gym.field_evaluation.cli import main
from sciencebeam_gym.field_evaluation.leave_out import group_k_fold
from tests.words.conftest import generate


def test_folds_hold_whole_groups_the_largest_first_into_the_lightest_fold():
    sizes = {"a": 5, "b": 3, "c": 3, "d": 1, "e": 1}
    assert group_k_fold(sizes, 2) == [["a", "d", "e"], ["b", "c"]]
    assert group_k_fold(sizes, 5) == [["a"], ["b"], ["c"], ["d"], ["e"]]
    assert group_k_fold({"a": 1, "b": 1}, 5) == [["a"], ["b"]]  # no empty folds
    # one publisher's imprints go together
    imprints = {"springer-netherlands": 2, "springer-singapore": 1, "mdpi": 2, "plos": 1}
    assert group_k_fold(imprints, 3) == [
        ["springer-netherlands", "springer-singapore"],
        ["mdpi"],
        ["plos"],
    ]


@pytest.mark.slow
def test_each_publisher_is_scored_by_a_word_model_that_never_saw_it(tmp_path, capsys):
    from sciencebeam_gym.serving import export
    from tests.serving.conftest import make_model_dir

    groups = {"a1": "alpha", "a2": "alpha", "b1": "beta", "g1": "gamma", "h1": "hindawi"}
    data = generate(tmp_path / "source", tmp_path / "data", groups)
    training = make_model_dir(tmp_path / "vision" / "training")
    exported = tmp_path / "vision" / "export"
    assert export.main(["--model_path", str(training), "--export_path", str(exported)]) == 0
    arguments = [
        *("--source", str(tmp_path / "source"), "--output", str(tmp_path / "out")),
        *("--model", str(exported), "--leave_out", "publisher", "--folds", "2"),
        *("--tokens", str(data), "--exclude_groups", "hindawi", "--no_painted"),
        *("--workers", "1", "--word_iterations", "30"),
    ]
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    evaluation = tmp_path / "out" / "evaluation"
    summary = json.loads((evaluation / "leave-out.json").read_text())
    assert [f["groups"] for f in summary["folds"]] == [["alpha"], ["beta", "gamma"]]
    assert summary["documents"] == {"alpha": 2, "beta": 1, "gamma": 1}  # hindawi not scored
    for fold in summary["folds"]:
        folder = evaluation / "folds" / str(fold["fold"]) / "word-model"
        info = json.loads((folder / "word-model.json").read_text())
        seen = {g for source in info["sources"].values() for g in source["groups"]}
        assert not seen & set(fold["groups"]) and "hindawi" in seen
    # the layout is the same for every publisher here: the other publishers teach it
    assert summary["micro"]["title"]["soft"]["f1"] == 1.0
    assert summary["groups"]["alpha"]["title"]["soft"]["f1"] == 1.0
    table = printed.split("soft F1 (%)")[-1]
    assert "micro (all scored)" in table and "alpha" in table and "hindawi" not in table
    assert printed.count("leave-out: training") == 2
    # a rerun finds each fold's word model already trained
    assert main(arguments) == 0
    again = capsys.readouterr().out
    assert again.count("is already trained") == 2 and "leave-out: training" not in again
