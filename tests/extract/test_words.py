"""Extraction with the word labeller: a word model trained on token files labels the words of a
PDF; which labeller is chosen; bad models, scanned pages and huge pages."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sciencebeam_gym.extract import extract_document
from sciencebeam_gym.extract import words as extract_words
from sciencebeam_gym.extract.cli import main
from sciencebeam_gym.extract.model import PaintedLabeller
from sciencebeam_gym.extract.words import WordLabeller, choose_labeller
from sciencebeam_gym.words.model import WordModelError, load_word_model, model_labels
from sciencebeam_gym.words.train import run as train
from tests.extract.pages import labels_by_value
from tests.generate import factory
from tests.words.conftest import generate

LABELS = model_labels(list(labels_by_value().values()))


@pytest.fixture(scope="module")
def word_model(tmp_path_factory):
    """A word model (no painted feature) trained on the factory article's token files."""
    root = tmp_path_factory.mktemp("extract-words")
    data = generate(root / "source", root / "data", {"a": "alpha", "b": "beta"})
    path = root / "run" / "word-model"
    train(["--tokens", str(data), "--no_painted", "--output", str(path)], log=lambda _: None)
    return path


def blank_labeller(pages: int = 2) -> PaintedLabeller:
    """Pixels that paint nothing: every class must come from the word model."""
    return PaintedLabeller([np.zeros((80, 62), np.uint8)] * pages, labels_by_value())


def test_the_word_model_labels_an_article_the_pixels_paint_nothing_on(word_model):
    model = load_word_model(str(word_model), LABELS)
    data = factory.pdf_bytes(factory.article_lines(), pages=2)
    timings: dict[str, float] = {}
    article = extract_document(data, WordLabeller(blank_labeller(), model), timings=timings)
    assert timings["words"] > 0 and timings["assembly"] > 0  # the word model's time apart
    assert article.title == factory.TITLE
    assert [(a.given_names, a.surname) for a in article.authors] == factory.AUTHORS
    assert [a.text for a in article.affiliations] == [factory.AFFILIATION]
    assert article.abstract == " ".join(factory.ABSTRACT)
    assert [s.title for s in article.sections][:1] == ["Introduction"]
    pixels_only = extract_document(data, blank_labeller())
    assert pixels_only.title == "" and not pixels_only.authors


def test_auto_takes_the_word_model_beside_the_export_and_pixels_without_one(tiny_export, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_export, run / "export")
    assert not isinstance(choose_labeller(str(run / "export")), WordLabeller)
    with pytest.raises(WordModelError, match=f"{run / 'word-model'}: no word model"):
        choose_labeller(str(run / "export"), labeller="words")
    with pytest.raises(ValueError, match="--labeller guess: choose one of auto, words, pixels"):
        choose_labeller(str(run / "export"), labeller="guess")


def test_the_services_workers_load_the_word_model_beside_the_export(
    tiny_export, word_model, tmp_path
):
    from sciencebeam_gym.service.pool import WorkerSpec, load_labeller

    run = tmp_path / "run"
    shutil.copytree(tiny_export, run / "export")
    assert not isinstance(load_labeller(WorkerSpec(str(run / "export"))), WordLabeller)
    shutil.copytree(word_model, run / "word-model")
    labeller = load_labeller(WorkerSpec(str(run / "export")))
    assert isinstance(labeller, WordLabeller) and labeller.word_model.path.endswith("word-model")


def test_a_word_model_of_another_vision_model_is_refused(tiny_export, word_model, tmp_path):
    import json

    copy = tmp_path / "word-model"
    shutil.copytree(word_model, copy)
    info = json.loads((copy / "word-model.json").read_text())
    info.update(painted=True, painted_labels=["abstract", "author"])
    (copy / "word-model.json").write_text(json.dumps(info))
    with pytest.raises(WordModelError, match="trained on the classes of another vision model"):
        choose_labeller(str(tiny_export), word_model=str(copy))
    labeller = choose_labeller(str(tiny_export), word_model=str(word_model))
    assert isinstance(labeller, WordLabeller) and str(word_model) in labeller.source
    assert isinstance(
        choose_labeller(str(tiny_export), labeller="pixels", word_model=str(word_model)),
        type(labeller.pixels),
    )


def test_a_scanned_page_keeps_the_pixels_regions_with_the_word_model(word_model):
    class_map = np.zeros((79, 61), np.uint8)
    class_map[10:20, 5:30] = {v: k for k, v in labels_by_value().items()}["manuscript_title"]
    pixels = PaintedLabeller([class_map], labels_by_value())
    model = load_word_model(str(word_model), LABELS)
    article = extract_document(factory.pdf_bytes(draw_only=True), WordLabeller(pixels, model))
    assert article.warnings and article.warnings[0].startswith("no text layer")
    assert [(r.label, r.page) for r in article.regions] == [("manuscript_title", 1)]


def test_a_page_of_too_many_words_is_labelled_by_the_pixels_past_the_cap(word_model, monkeypatch):
    monkeypatch.setattr(extract_words, "MAX_PAGE_TOKENS", 10)
    model = load_word_model(str(word_model), LABELS)
    data = factory.pdf_bytes(factory.article_lines(), pages=1)
    article = extract_document(data, WordLabeller(blank_labeller(1), model))
    assert any("page 1:" in w and "labelled the first 10" in w for w in article.warnings)
    assert article.title == factory.TITLE  # the title is among the first ten words
    assert not article.abstract  # past the cap: painted nothing


def test_extract_with_labeller_words_and_no_word_model_stops_naming_where_it_looked(
    tiny_export, tmp_path, capsys
):
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(factory.pdf_bytes(factory.article_lines()))
    code = main(
        [str(pdf), str(tmp_path / "out"), "--saved_model", str(tiny_export), "--labeller", "words"]
    )
    assert code == 2
    assert "word-model: no word model" in capsys.readouterr().err


def test_unlabelled_words_take_the_class_holding_most_of_their_text_block():
    from sciencebeam_gym.document.words import PageWord
    from sciencebeam_gym.extract.words import fill_blocks

    def word(text, block, label):
        return PageWord(text, (0, 0, 1, 1), 0, ((text, False),), block=block, label=label)

    words = [
        *(word(t, 0, "manuscript_title") for t in ("Melt", "of")),
        word("Glaciers", 0, ""),  # the title's last line, left out by the word model
        word("Anna", 1, "author"),
        word("Berg", 1, ""),
        word("x", 1, "author_aff"),
        word("y", 1, ""),  # author holds 1 of 4: no majority
    ]
    fill_blocks(words)
    assert [w.label for w in words] == [
        "manuscript_title",
        "manuscript_title",
        "manuscript_title",
        "author",
        "",
        "author_aff",
        "",
    ]


def extract_with_one_label(tmp_path, page: list, label: str):
    """The page's article, its words labelled by the painted page's pixels and a word model
    trained to give every word `label`."""
    from sciencebeam_gym.document.pdf import open_pdf
    from sciencebeam_gym.document.text_layer import extract_page_text
    from sciencebeam_gym.document.words import page_words
    from sciencebeam_gym.words.features import PageInfo, page_features
    from sciencebeam_gym.words.model import save_word_model, train_crf
    from tests.extract.pages import make_pdf, painted

    pdf = make_pdf([page])
    words = page_words(extract_page_text(open_pdf(pdf)[0]))
    features = page_features(words, PageInfo(612.0, 792.0))
    data, _ = train_crf([(features, [label] * len(words))], {"max_iterations": 5})
    save_word_model(str(tmp_path / "m"), data, {"labels": LABELS, "painted": False})
    word_model = load_word_model(str(tmp_path / "m"), LABELS)
    pixels = PaintedLabeller(painted([page]), labels_by_value())
    return extract_document(pdf, WordLabeller(pixels, word_model))


def test_words_the_word_model_leaves_unknown_take_the_painted_class(tmp_path):
    from tests.extract.pages import Text

    page = [
        Text(72, 80, 20, "A Painted Title", "manuscript_title"),
        Text(72, 400, 9, "Competing interests: none declared.", "reference"),
    ]
    article = extract_with_one_label(tmp_path, page, "unknown")  # unknown to every word
    assert article.title == "A Painted Title"
    assert article.references == []  # references are the word model's to find


def test_the_painted_title_wins_over_the_word_models_class(tmp_path):
    from tests.extract.pages import Text

    page = [
        Text(72, 80, 20, "A Painted Title", "manuscript_title"),
        Text(72, 300, 10, "Plain words of a paragraph here.", "section_paragraph"),
    ]
    # a word model that takes every word for the abstract
    article = extract_with_one_label(tmp_path, page, "abstract")
    assert article.title == "A Painted Title"
    assert article.abstract == "Plain words of a paragraph here."  # the other words keep its class
