"""--pages: one parser for extract, generate and the evaluation; ranges, never page lists."""

from __future__ import annotations

import time

import pytest

from sciencebeam_gym.document.pages import (
    EVERY_PAGE,
    PageSelectionError,
    as_selection,
    parse_pages,
)


@pytest.mark.parametrize(
    ("text", "count", "pages"),
    [
        ("all", 3, [1, 2, 3]),
        ("", 2, [1, 2]),
        ("1", 5, [1]),
        ("1,3-4", 5, [1, 3, 4]),
        ("3-4,1,2-3", 5, [1, 2, 3, 4]),  # sorted, each once
        ("2-9", 4, [2, 3, 4]),  # only the pages the document has
        ("7", 4, []),
    ],
)
def test_a_selection_lists_the_pages_a_document_has(text, count, pages):
    assert parse_pages(text).select(count) == pages


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("5-2", "runs backwards"),
        ("0", "from 1"),
        ("0-3", "from 1"),
        ("x", "not like"),
        ("1-", "not like"),
    ],
)
def test_bad_selections_are_refused_naming_the_value(text, words):
    with pytest.raises(PageSelectionError, match=words) as error:
        parse_pages(text)
    assert repr(text) in str(error.value)


def test_a_huge_range_costs_nothing_until_a_document_is_read():
    started = time.perf_counter()
    selection = parse_pages("1-1000000000")
    assert selection.select(3) == [1, 2, 3]
    assert 999_999_999 in selection and 1_000_000_001 not in selection
    assert time.perf_counter() - started < 0.1
    assert str(selection) == "1-1000000000"


def test_callers_may_pass_numbers_none_or_text():
    assert as_selection(None) is EVERY_PAGE and not as_selection(())
    assert as_selection((2, 1)).select(5) == [1, 2]
    assert as_selection("2-3").select(5) == [2, 3]
    with pytest.raises(PageSelectionError):
        as_selection([0])
