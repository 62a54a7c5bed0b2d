"""Token files: the schema round trip, other versions refused by name, damaged files, the cap."""

import json

import numpy as np
import pytest

from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.text_layer import Font, extract_page_text
from sciencebeam_gym.document.tokens import (
    MAX_PAGE_TOKENS,
    TOKENS_VERSION,
    PageTokens,
    TokenFileError,
    capped,
    decode_tokens,
    encode_tokens,
    find_token_files,
    read_tokens,
    write_tokens,
)
from sciencebeam_gym.document.words import PageWord, class_shares, page_words
from tests.extract.pages import Text, make_pdf


def sample_tokens() -> PageTokens:
    bold = Font("Times-Bold", True, False)
    words = [
        PageWord("Title", (10.0, 20.0, 60.0, 40.0), 0, (("Title", False),), bold, 18.0, 0, "t"),
        PageWord("Anna1", (10.0, 50.0, 50.0, 60.0), 1, (("Anna", False), ("1", True)), size=9.0),
        PageWord("émigré", (55.5, 50.0, 80.25, 60.0), 1, (("émigré", False),), block=1),
    ]
    return PageTokens(
        "doc-1", 2, 612.0, 792.0, words, [0, -1, 3], group="plos", pages=7, rotation=90
    )


def test_a_page_reads_back_as_it_was_written(tmp_path):
    path = str(tmp_path / "d" / "doc-1-page2.tokens.json")
    write_tokens(path, sample_tokens())
    tokens = read_tokens(path)
    original = sample_tokens()
    assert (tokens.doc_id, tokens.page, tokens.group) == ("doc-1", 2, "plos")
    assert (tokens.pages, tokens.rotation) == (7, 90)
    assert (tokens.width, tokens.height, tokens.instances) == (612.0, 792.0, [0, -1, 3])
    assert tokens.words == original.words
    assert tokens.labels == ["t", "unknown", "unknown"]
    assert tokens.words[1].raised and tokens.words[1].plain == "Anna"
    assert find_token_files(str(tmp_path)) == [path]


def test_another_schema_version_is_refused_naming_both_versions():
    document = json.loads(encode_tokens(sample_tokens()))
    document["version"] = TOKENS_VERSION + 1
    with pytest.raises(TokenFileError) as error:
        decode_tokens(json.dumps(document).encode(), "x/doc-page1.tokens.json")
    message = str(error.value)
    assert "x/doc-page1.tokens.json" in message
    assert f"version {TOKENS_VERSION + 1}" in message and f"version {TOKENS_VERSION};" in message
    assert "generate-data.sh" in message


@pytest.mark.parametrize(
    "data",
    [b"", b"[1, 2]", b'{"schema": "other"}', b"\xff\xfe", None],
    ids=["empty", "a list", "another schema", "not UTF-8", "columns of different lengths"],
)
def test_what_is_no_token_file_is_refused_naming_the_file(data):
    if data is None:
        document = json.loads(encode_tokens(sample_tokens()))
        document["words"]["label"].pop()
        data = json.dumps(document).encode()
    with pytest.raises(TokenFileError, match="p.tokens.json"):
        decode_tokens(data, "p.tokens.json")


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(TokenFileError, match="missing.tokens.json: cannot be read"):
        read_tokens(str(tmp_path / "missing.tokens.json"))


def test_a_page_of_more_words_than_the_cap_keeps_the_first_and_says_how_many_it_had():
    word = sample_tokens().words[2]
    many = PageTokens(
        "d", 1, 10.0, 10.0, [word] * (MAX_PAGE_TOKENS + 5), [1] * (MAX_PAGE_TOKENS + 5)
    )
    cut = capped(many)
    assert len(cut.words) == len(cut.instances) == MAX_PAGE_TOKENS
    assert cut.truncated == MAX_PAGE_TOKENS + 5
    assert decode_tokens(encode_tokens(cut)).truncated == MAX_PAGE_TOKENS + 5
    small = sample_tokens()
    assert capped(small).truncated == 0 and len(small.words) == 3


def test_class_shares_give_each_word_the_share_of_its_box_painted_with_each_class():
    pdf = make_pdf([[Text(72, 700, 12, "left words"), Text(350, 700, 12, "right")]])
    words = page_words(extract_page_text(open_pdf(pdf)[0]))
    class_map = np.zeros((792, 612), dtype=np.uint8)  # one pixel per point
    class_map[:, :300] = 2
    class_map[:, 360:] = 1  # "right" starts at 350: partly background
    shares = class_shares(words, class_map, (612.0, 792.0), classes=3)
    assert shares.shape == (3, 4)
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert shares[0, 2] == shares[1, 2] == 1.0
    right = words[2].box
    expected = (np.ceil(right[2]) - 360) / (np.ceil(right[2]) - int(right[0]))
    assert shares[2, 1] == pytest.approx(expected, abs=1e-6)
    assert shares[2, 0] == pytest.approx(1 - expected, abs=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_class_shares_read_box_by_box_or_from_tables_agree(seed):
    from sciencebeam_gym.document.words import _counts_by_box, _counts_by_table

    rng = np.random.default_rng(seed)
    values = rng.integers(0, 7, size=(40, 30))  # 6 classes and one bin for other values
    corners = rng.integers(0, 30, size=(50, 2)), rng.integers(0, 40, size=(50, 2))
    left, right = np.sort(corners[0], axis=1).T
    upper, lower = np.sort(corners[1], axis=1).T
    boxes = np.stack([left, upper, right + 1, lower + 1], axis=1)
    by_box, by_table = _counts_by_box(values, boxes, 7), _counts_by_table(values, boxes, 7)
    assert by_box.sum() > 0 and np.array_equal(by_box, by_table)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    assert np.array_equal(by_box.sum(axis=1), areas)
