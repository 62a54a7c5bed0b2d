import difflib

import pytest

from sciencebeam_gym.field_evaluation.measures import (
    RATCLIFF_OBERSHELP,
    SOFT,
    STRICT,
    Counts,
    count_agreement,
    levenshtein_similarity,
    list_counts,
    match_matrix,
    maximum_matching,
    normalise_text,
    ratcliff_obershelp_similarity,
    strict_text,
    text_counts,
    unique_items,
)
from tests.field_evaluation.jats_factory import ABSTRACT


def test_normalise_text_folds_compatibility_forms_case_punctuation_and_whitespace():
    # "ﬁ" is one ligature glyph; NFKC makes it two letters
    assert normalise_text("The  ﬁrst\nDog-Human, Study.") == "thefirstdoghumanstudy"
    assert normalise_text("Zsófia Virányi") == "zsófiavirányi"  # accents are letters, kept
    assert normalise_text("H₂O at 5 °C") == "h2oat5c"


def test_strict_forgives_layout_only():
    assert strict_text(" A  new\nspecies ") == "A new species"
    assert STRICT.matches("A new species", "A new\nspecies")
    assert not STRICT.matches("A new species", "A New species")
    assert not STRICT.matches("A new species", "A new species.")


def test_soft_is_levenshtein_similarity_of_the_normalised_text_at_0_8():
    expected = "abcdefghij"
    two_edits = "abXdefghYj"  # 1 - 2/10 = 0.8: just matches
    three_edits = "abXdefgYZj"  # 0.7
    assert levenshtein_similarity(expected, two_edits) == pytest.approx(0.8)
    assert SOFT.matches(expected, two_edits)
    assert not SOFT.matches(expected, three_edits)
    # case and punctuation do not count before the similarity is taken
    assert levenshtein_similarity("A New Species.", "a new species") == 1.0


def test_ratcliff_obershelp_is_difflib_without_autojunk_on_normalised_text():
    expected = ABSTRACT * 2  # over 200 characters, where difflib's autojunk would start
    actual = expected.replace("crucial", "vital").replace("pens", "pen")
    a, b = normalise_text(expected), normalise_text(actual)
    ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    assert ratcliff_obershelp_similarity(expected, actual) == pytest.approx(ratio)
    assert ratio > 0.95 and RATCLIFF_OBERSHELP.matches(expected, actual)
    # with autojunk every common letter would count as junk and two near copies would differ
    assert difflib.SequenceMatcher(None, a, b).ratio() < 0.5
    assert not RATCLIFF_OBERSHELP.matches("abcdefghijklmnopqrst", "abcdefghijklmnopqrXY")


def test_counts_precision_recall_f1():
    counts = Counts(expected=4, actual=2, matched=2)
    assert (counts.precision, counts.recall, counts.f1) == (1.0, 0.5, pytest.approx(2 / 3))
    assert Counts(3, 0, 0).precision is None and Counts(3, 0, 0).f1 == 0.0
    assert Counts(0, 0, 0).f1 is None
    assert Counts(1, 2, 1) + Counts(2, 1, 1) == Counts(3, 3, 2)


def test_maximum_matching_is_one_to_one_and_beats_greedy():
    # expected 0 matches both actual items, expected 1 only the first: greedy would give 1
    matrix = [[True, True], [True, False]]
    assert maximum_matching(matrix) == [(0, 1), (1, 0)]
    # two equal expected items cannot both take the one extracted item
    assert list_counts(STRICT, ["Smith", "Smith"], ["Smith"]) == Counts(2, 1, 1)


def test_list_counts_under_each_measure():
    expected = ["Kelly J. Robinson", "Sean D. Twiss", "Neil Hazon"]
    actual = ["Kelly J Robinson", "Sean D. Twis", "Patrick Pomeroy"]
    assert list_counts(STRICT, expected, actual) == Counts(3, 3, 0)
    assert list_counts(SOFT, expected, actual) == Counts(3, 3, 2)
    # "seandtwis" vs "seandtwiss": 2 * 9 / 19 = 0.947 < 0.95
    assert list_counts(RATCLIFF_OBERSHELP, expected, actual) == Counts(3, 3, 1)
    assert match_matrix(SOFT, [], actual) == []


def test_text_counts_of_missing_sides():
    assert text_counts(SOFT, "Title", "") == Counts(1, 0, 0)
    assert text_counts(SOFT, "", "Title") == Counts(0, 1, 0)
    assert text_counts(SOFT, "Title", "title.") == Counts(1, 1, 1)


def test_count_agreement_and_unique_items():
    assert count_agreement(10, 7) == Counts(10, 7, 7)
    assert unique_items(["Anna Berg", "anna berg.", "Tomas Lind"]) == ["Anna Berg", "Tomas Lind"]
