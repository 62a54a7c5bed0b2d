"""Which pages of a document a run reads: `--pages` of extract, generate and the evaluation.

    selection = parse_pages("1,3-5")      # or "all"
    selection.select(page_count)          # [1, 3, 4, 5], the pages the document has

A selection holds ranges, never a list of every page, so `1-1000000000` costs nothing; a
document's pages are listed only up to its own page count.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ALL_PAGES = "all"
_RANGE = re.compile(r"(\d+)(?:-(\d+))?")


class PageSelectionError(ValueError):
    """A --pages value that is not like 1,3,5-7 or all; the message shows the value."""


@dataclass(frozen=True)
class PageSelection:
    """1-based inclusive page ranges; none at all means every page."""

    ranges: tuple[tuple[int, int], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __str__(self) -> str:
        if not self.ranges:
            return ALL_PAGES
        return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in self.ranges)

    def select(self, count: int) -> list[int]:
        """The selected pages a document of `count` pages has, in order, each once."""
        if not self.ranges:
            return list(range(1, count + 1))
        pages: set[int] = set()
        for first, last in self.ranges:
            pages.update(range(first, min(last, count) + 1))
        return sorted(pages)

    def __contains__(self, page: object) -> bool:
        return not self.ranges or any(a <= page <= b for a, b in self.ranges)  # type: ignore[operator]


EVERY_PAGE = PageSelection()
FIRST_PAGE = PageSelection(((1, 1),))


def parse_pages(text: str) -> PageSelection:
    """'all' (or empty) -> every page; '1', '1,3', '2-4' -> those pages. PageSelectionError for
    anything else, a page 0, or a range that runs backwards ('5-2')."""
    if text.strip().lower() in ("", ALL_PAGES):
        return EVERY_PAGE
    ranges = []
    for part in text.split(","):
        match = _RANGE.fullmatch(part.strip())
        if not match:
            raise PageSelectionError(f"{text!r} is not like 1 or 1,3 or 2-4 or all")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1:
            raise PageSelectionError(f"{text!r}: pages are numbered from 1")
        if last < first:
            raise PageSelectionError(f"{text!r}: the range {part.strip()} runs backwards")
        ranges.append((first, last))
    return PageSelection(tuple(ranges))


def as_selection(pages: PageSelection | Sequence[int] | str | None) -> PageSelection:
    """A selection from what callers pass: a selection, page numbers, a --pages text, or None
    (every page)."""
    if isinstance(pages, PageSelection):
        return pages
    if pages is None:
        return EVERY_PAGE
    if isinstance(pages, str):
        return parse_pages(pages)
    return PageSelection(tuple((n, n) for n in _positive(pages)))


def _positive(numbers: Iterable[int]) -> list[int]:
    numbers = sorted(set(int(n) for n in numbers))
    if numbers and numbers[0] < 1:
        raise PageSelectionError(f"page {numbers[0]}: pages are numbered from 1")
    return numbers


# --- the --pages flag ---------------------------------------------------------------------------


def page_selection(text: str) -> PageSelection:
    """argparse type of --pages: 'all', '1', '1,3', '2-4'."""
    try:
        return parse_pages(text)
    except PageSelectionError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def add_pages(parser, default: str, help: str) -> None:  # noqa: A002 - argparse's name
    """--pages, parsed into a PageSelection (the default too)."""
    parser.add_argument("--pages", type=page_selection, default=page_selection(default), help=help)
