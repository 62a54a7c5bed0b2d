"""The word features: each family on words whose properties are known, the same features from
a page's words and from its token file, and the painted classes."""

import numpy as np

from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.document.tokens import decode_tokens, encode_tokens
from sciencebeam_gym.document.words import page_words
from sciencebeam_gym.generate.tokens import aligned_tokens
from sciencebeam_gym.words.features import (
    FEATURE_VERSION,
    PageInfo,
    label_form,
    page_features,
    size_bucket,
    word_case,
    word_shape,
)
from tests.extract.pages import Text, make_pdf, then

TITLE = Text(72, 80, 20, "Melt of Glaciers")
AUTHOR = Text(72, 120, 10, "Anna Berg")
MARK = then(AUTHOR, "1", raised=True)
AFFILIATION = Text(72, 140, 10, "Department of Earth Science, Oslo, Norway")
EMAIL = Text(72, 154, 10, "anna.berg@example.org")
HEADING = Text(320, 400, 10, "Abstract")
BODY = [
    Text(320, 412 + 12 * i, 10, f"the body text line {i} of the page in 2019") for i in range(6)
]
PAGE = [TITLE, AUTHOR, MARK, AFFILIATION, EMAIL, HEADING, *BODY]


def words_of(items):
    return page_words(extract_page_text(open_pdf(make_pdf([items]))[0]))


def features_by_word(items=PAGE, **info):
    words = words_of(items)
    features = page_features(words, PageInfo(612.0, 792.0, **info))
    return words, {w.text: f for w, f in zip(words, features, strict=True)}


def test_lexical_features_name_the_word_its_shape_and_the_cues_of_the_lists():
    _, by_word = features_by_word()
    assert by_word["Department"]["w"] == "department" and by_word["Department"]["inst"]
    assert by_word["Norway"]["country"] and "end" not in by_word["Norway"]
    assert by_word["Science,"]["end"] == ","
    assert by_word["anna.berg@example.org"]["email"]
    assert by_word["Abstract"]["head"] and by_word["Abstract"]["lhead"]
    assert by_word["2019"]["num"] == "year"
    assert "inst" not in by_word["Anna"] and "head" not in by_word["Anna"]
    assert word_shape("Smith1") == "Xxd" and word_shape("10.1186/s1") == "d.d/xd"
    assert [word_case(t) for t in ("ABC", "Abc", "abc", "aBc", "12")] == [
        "upper",
        "title",
        "lower",
        "mixed",
        "none",
    ]
    assert [label_form(t) for t in ("[12]", "3.", "(4)", "5", "a")] == ["[n]", "n.", "n)", "n", ""]


def test_typographic_features_compare_sizes_with_the_body_and_see_raised_marks():
    _, by_word = features_by_word()
    assert by_word["Melt"]["rs"] in ("xl", "xxl") and by_word["body"]["rs"] == "n"
    assert by_word["Berg1"]["raised"] and not by_word["Anna"].get("raised")
    assert by_word["body"]["bodyfont"]
    assert size_bucket(0.5) == "xs" and size_bucket(1.0) == "n" and size_bucket(3.0) == "xxl"


def test_geometric_and_line_features_place_each_word_on_the_page():
    _, by_word = features_by_word()
    assert by_word["Melt"]["inline"] == "first" and by_word["Glaciers"]["inline"] == "last"
    assert by_word["Melt"]["y"] == "1" and by_word["Melt"]["x"] == "1"  # 72 of 792, 72 of 612
    assert by_word["Abstract"]["col"] == "right" and by_word["Department"]["col"] == "left"
    assert by_word["Department"]["linst"] and by_word["Oslo,"]["linst"]  # the line holds one
    assert by_word["Melt"]["gap"] == "jump"  # the page's first line
    assert by_word["Melt"]["lwords"] == "4" and by_word["Abstract"]["lwords"] == "1"
    assert by_word["Melt"]["pg"] == "1" and by_word["Melt"]["ppos"] == "first"


def test_each_word_sees_the_lines_before_and_after_its_own():
    _, by_word = features_by_word()
    assert by_word["Melt"]["lmax"] and "lmax" not in by_word["Anna"]
    assert by_word["Anna"]["pl:lrs"] in ("xl", "xxl") and by_word["Anna"]["nl:lrs"] == "n"
    assert "pl:lrs" not in by_word["Melt"]  # the page's first line has none before it
    assert by_word["Department"]["nl:lfirst"] == "other"  # the e-mail line opens in lower case


def test_the_page_number_and_its_place_in_the_document_are_features():
    _, by_word = features_by_word(number=5, pages=5)
    assert by_word["Melt"]["pg"] == "3+" and by_word["Melt"]["ppos"] == "last"
    _, by_word = features_by_word(number=2, pages=9)
    assert by_word["Melt"]["pg"] == "2" and by_word["Melt"]["ppos"] == "early"


def test_each_word_sees_its_neighbours_and_the_page_ends_are_marked():
    words, _ = features_by_word()
    features = page_features(words, PageInfo(612.0, 792.0))
    assert features[0]["bos"] and features[-1]["eos"] and "bos" not in features[1]
    assert features[1]["-1:w"] == "melt" and features[1]["+1:w"] == "glaciers"
    assert features[0]["+2:w"] == "glaciers" and "-1:w" not in features[0]


def test_the_painted_classes_under_a_word_are_its_features():
    words = words_of(PAGE)
    shares = np.zeros((len(words), 4), dtype=np.float32)
    shares[:, 0] = 1.0
    shares[0] = [0.2, 0.0, 0.8, 0.0]  # "Melt": mostly class 2
    features = page_features(words, PageInfo(612.0, 792.0), shares, ["a", "b", "c"])
    assert features[0]["pc"] == "b" and features[0]["pv:b"] == 0.8
    assert "pv:a" not in features[0] and features[1]["pc"] == "bg"
    assert features[0]["lpc"] == "bg"  # most of the title line is background
    assert features[1]["-1:pc"] == "b"
    assert not any("pc" in f for f in page_features(words, PageInfo(612.0, 792.0)))


def test_a_token_file_gives_the_features_its_page_gave_when_it_was_written():
    """Training reads token files, extraction reads the PDF: the features must be the same."""
    text = extract_page_text(open_pdf(make_pdf([PAGE]))[0])
    info = PageInfo(text.width, text.height, 1, 3)
    direct = page_features(page_words(text), info)
    tokens = decode_tokens(encode_tokens(aligned_tokens(text, [], 1, 3)))
    assert page_features(tokens.words, info) == direct
    assert isinstance(FEATURE_VERSION, int)
