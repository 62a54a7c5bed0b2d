"""The word model on tiny token data: trained, saved with what it saw, loaded, refused when its
feature version or label set is not the code's; the training command's sources and weights."""

import json

import pytest

from sciencebeam_gym.color_map import default_color_map_path, load_color_map
from sciencebeam_gym.document.tokens import find_token_files, read_tokens
from sciencebeam_gym.words import model as word_model
from sciencebeam_gym.words.features import FEATURE_VERSION, PageInfo, page_features
from sciencebeam_gym.words.model import (
    WordModelError,
    load_word_model,
    model_labels,
    save_word_model,
    train_crf,
)
from sciencebeam_gym.words.train import TokenPage, copies, find_pages, main, run

LABELS = model_labels(load_color_map(default_color_map_path()).labels)


def pages_of(data):
    for path in find_token_files(str(data)):
        tokens = read_tokens(path)
        info = PageInfo(tokens.width, tokens.height, tokens.page, tokens.pages)
        yield tokens, page_features(tokens.words, info), tokens.labels


def test_a_crf_trained_on_token_pages_labels_their_words(token_data, tmp_path):
    data, figures = train_crf(((f, labels) for _, f, labels in pages_of(token_data)))
    assert figures["pages"] == 6 and figures["words"] > 50
    save_word_model(str(tmp_path / "m"), data, {"labels": LABELS, "painted": False})
    model = load_word_model(str(tmp_path / "m"), LABELS)
    right = total = 0
    for tokens, features, labels in pages_of(token_data):
        predicted = model.label_page(features)
        right += sum(p == e for p, e in zip(predicted, labels, strict=True))
        total += len(labels)
        title = [
            w.text for w, p in zip(tokens.words, predicted, strict=True) if p == "manuscript_title"
        ]
        if tokens.page == 1:
            assert " ".join(title) == "Glacier Melt Patterns in Northern Valleys"
    assert right / total > 0.95
    assert model.label_page([]) == []


def test_the_first_word_of_each_affiliation_reference_and_section_title_is_marked():
    from sciencebeam_gym.words.model import instance_labels, split_label

    labels = [
        "author",
        "author",
        "author_aff",
        "author_aff",
        "author_aff",
        "reference",
        "reference",
    ]
    instances = [0, 0, 1, 1, 2, 3, 3]
    assert instance_labels(labels, instances) == [
        "author",
        "author",
        "B-author_aff",
        "author_aff",
        "B-author_aff",  # the next affiliation
        "B-reference",
        "reference",
    ]
    # unknown instances (-1): a start only where the class changes
    assert instance_labels(["reference", "reference"], [-1, -1]) == ["B-reference", "reference"]
    assert split_label("B-reference") == ("reference", True)
    assert split_label("reference") == ("reference", False)
    assert LABELS[-3:] == ["B-author_aff", "B-reference", "B-section_title"]


def test_training_reports_its_iterations_and_prints_nothing_else(capfd):
    lines = []
    train_crf(
        [([{"w": "a"}, {"w": "b"}], ["abstract", "unknown"])] * 2,
        {"max_iterations": 12},
        lines.append,
    )
    assert lines[0] == "word model: 2 pages, 4 words appended (0 s)"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["iteration 1", "iteration 10"]
    assert capfd.readouterr().out == ""


def saved_model(tmp_path, **info):
    data, _ = train_crf(
        [([{"w": "a"}, {"w": "b"}], ["abstract", "unknown"])], {"max_iterations": 5}
    )
    path = str(tmp_path / "m")
    save_word_model(path, data, {"labels": LABELS, **info})
    return path


def test_a_model_of_another_feature_version_is_refused_naming_both(tmp_path, monkeypatch):
    path = saved_model(tmp_path)
    monkeypatch.setattr(word_model, "FEATURE_VERSION", FEATURE_VERSION + 1)
    with pytest.raises(WordModelError) as error:
        load_word_model(path, LABELS)
    message = str(error.value)
    assert path in message and f"feature version {FEATURE_VERSION}," in message
    assert f"computes version {FEATURE_VERSION + 1}" in message and "train-word-model.sh" in message


def test_a_model_of_another_label_set_is_refused_naming_the_difference(tmp_path):
    path = saved_model(tmp_path)
    with pytest.raises(WordModelError, match="not in the model: poster; not in the colour map: -"):
        load_word_model(path, [*LABELS, "poster"])
    with pytest.raises(WordModelError, match="not in the colour map: abstract"):
        load_word_model(path, LABELS[1:])
    with pytest.raises(WordModelError, match="in another order"):
        load_word_model(path, list(reversed(LABELS)))


def test_a_folder_without_a_model_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(
        WordModelError, match="no word model .* train one with ./train-word-model.sh"
    ):
        load_word_model(str(tmp_path), LABELS)


def test_weights_repeat_pages_and_a_fraction_takes_that_share_of_them():
    pages = [TokenPage(f"p{i}", "g", 0.3, "s") for i in range(2000)]
    drawn = [copies(p, seed=1) for p in pages]
    assert set(drawn) == {0, 1} and 0.25 < sum(drawn) / len(drawn) < 0.35
    assert drawn == [copies(p, seed=1) for p in pages]  # the same draw each run
    assert drawn != [copies(p, seed=2) for p in pages]
    assert copies(TokenPage("p", "g", 2.0, "s"), seed=1) == 2


def test_the_command_trains_on_weighted_sources_without_the_excluded_groups(token_data, tmp_path):
    output = tmp_path / "word-model"
    alpha = f"{token_data}/train/alpha"
    info = run(
        [
            *("--tokens", f"{alpha}:2", "--tokens", f"{token_data}/train/beta"),
            *("--exclude_groups", "beta", "--no_painted", "--output", str(output)),
            *("--eval_tokens", f"{token_data}/train/beta", "--max_iterations", "30"),
        ],
        log=lambda _: None,
    )
    saved = json.loads((output / "word-model.json").read_text())
    assert saved["feature_version"] == FEATURE_VERSION and saved["labels"] == LABELS
    assert saved["pages"] == 8  # alpha's 4 pages twice, beta's left out
    assert saved["excluded_groups"] == ["beta"] and saved["painted"] is False
    assert saved["sources"][f"{alpha}:2"] == {"weight": 2.0, "pages": 4, "groups": {"alpha": 4}}
    assert f"{token_data}/train/beta" not in saved["sources"]
    # scored on the group it never saw (the same layout, so it gets it right)
    assert info["evaluation"]["accuracy"] > 0.9 and info["evaluation"]["words"] > 50
    assert find_pages([f"{token_data}/train"], ["alpha"])[0].group == "beta"


def test_the_command_refuses_sources_without_token_files_naming_them(tmp_path, capsys):
    code = main(["--tokens", str(tmp_path), "--no_painted", "--output", str(tmp_path / "m")])
    assert code == 2
    assert f"--tokens {tmp_path}: no token file" in capsys.readouterr().err
    code = main(["--tokens", f"{tmp_path}:zero", "--no_painted", "--output", str(tmp_path / "m")])
    assert code == 2 and "is not a number" in capsys.readouterr().err
    code = main(["--tokens", str(tmp_path), "--output", str(tmp_path / "m")])
    assert code == 2 and "--saved_model" in capsys.readouterr().err


@pytest.mark.slow
def test_the_painted_classes_come_from_the_vision_model_once_per_page(
    token_data, tiny_export, tmp_path
):
    from sciencebeam_gym.serving.labeller import load_labeller
    from sciencebeam_gym.words.painted import labels_of

    output = tmp_path / "run" / "word-model"
    arguments = ["--tokens", f"{token_data}/train", "--saved_model", str(tiny_export)]
    arguments += ["--output", str(output), "--max_iterations", "5"]
    info = run(arguments, log=lambda _: None)
    expected = labels_of(load_labeller(saved_model=str(tiny_export)))
    assert info["painted"] is True and info["painted_labels"] == expected and len(expected) == 24
    assert info["vision_model"] == str(tiny_export)
    cached = sorted((tmp_path / "run" / "painted-cache").glob("*/*.npy"))
    assert len(cached) == 6  # one class map per page, beside the model's folder
    stamps = [p.stat().st_mtime_ns for p in cached]
    run(arguments, log=lambda _: None)  # again: the maps come from the cache
    assert [p.stat().st_mtime_ns for p in cached] == stamps


@pytest.mark.slow
def test_a_page_whose_png_is_missing_is_refused_naming_it(
    token_data, tiny_export, tmp_path, capsys
):
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(token_data, copy)
    png = copy / "train" / "beta" / "b1" / "b1-page2.png"
    png.unlink()
    code = main(
        [
            *("--tokens", str(copy), "--saved_model", str(tiny_export)),
            *("--output", str(tmp_path / "m"), "--max_iterations", "5"),
        ]
    )
    assert code == 2
    error = capsys.readouterr().err
    assert f"{png}: the page image beside" in error and "--no_painted" in error


def test_fill_lines_gives_a_mostly_classed_lines_unknown_words_its_class():
    from sciencebeam_gym.document.words import PageWord
    from sciencebeam_gym.words.train import filled_lines

    lines = [("Abstract", 0), ("We", 0), ("did", 0), ("Received", 1), ("2001", 1), ("Lee", 2)]
    words = [PageWord(text, (0, 0, 1, 1), line, ((text, False),)) for text, line in lines]
    labels = ["unknown", "abstract", "abstract", "unknown", "unknown", "reference"]
    filled, instances = filled_lines(words, labels, [-1, 3, 3, -1, -1, 4])
    assert filled == ["abstract", "abstract", "abstract", "unknown", "unknown", "reference"]
    assert instances == [3, 3, 3, -1, -1, 4]  # no new instance (no false B- mark) in the line
    mixed = ["unknown", "abstract", "author", "unknown", "unknown", "reference"]
    assert filled_lines(words, mixed, [-1] * 6)[0] == mixed  # two classes: left as they are


def test_pages_the_alignment_mostly_missed_are_left_out_of_training(token_data, tmp_path):
    import shutil

    from sciencebeam_gym.document.tokens import write_tokens
    from sciencebeam_gym.words.train import PageReader

    copy = tmp_path / "data"
    shutil.copytree(token_data, copy)
    paths = find_token_files(str(copy))
    missed = read_tokens(paths[0])
    for word in missed.words[: int(0.6 * len(missed.words))]:
        word.label = ""  # unknown: no field claimed it
    write_tokens(paths[0], missed)
    reader = PageReader(LABELS, max_unknown=0.5)
    read = [tokens.path for tokens, _, _ in reader.read(paths)]
    assert read == paths[1:] and reader.skipped == [paths[0]]
    everything = PageReader(LABELS)  # the default of the reader: every page
    assert len(list(everything.read(paths))) == len(paths)
