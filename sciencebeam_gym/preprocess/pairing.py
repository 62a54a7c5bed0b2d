"""Pairing page images with their annotations by name (never by sort order).

An annotation is a file whose name matches the target pattern (default `\\btarget\\b|\\bannot`).
Its pair key is its folder plus its name without the extension and without the matching word, so
`doc/x-page1.annot.png` and `doc/x-page1-target.png` both pair with the page `doc/x-page1.png`.
Files that do not pair up come back as `Skipped` items with a reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sciencebeam_gym.color_map import ANNOTATION_NAME_PATTERN
from sciencebeam_gym.storage import fs

DEFAULT_TARGET_PATTERN = ANNOTATION_NAME_PATTERN

# Reasons a file is skipped before any image is read.
MISSING_ANNOTATION = "missing_annotation"
MISSING_PAGE = "missing_page"
MULTIPLE_ANNOTATIONS = "multiple_annotations"
MULTIPLE_PAGES = "multiple_pages"
UNDECODABLE_NAME = "undecodable_name"

_SEPARATORS = "._- "


@dataclass(frozen=True)
class Pair:
    """A page image and its annotation (label image)."""

    page: str
    annotation: str


@dataclass(frozen=True)
class Skipped:
    """A file left out, with a machine-readable reason and a message for people."""

    path: str
    reason: str
    message: str


def compile_target_pattern(pattern: str) -> re.Pattern:
    """The annotation-name regex; a clear error names the flag when it does not compile."""
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"--target_pattern {pattern!r} is not a valid regex: {error}") from error


def split_path(path: str) -> tuple[str, str]:
    """(folder, file name) of a local path or URL."""
    folder, _, name = path.rstrip("/").rpartition("/")
    return folder, name


def strip_extension(name: str) -> str:
    stem, dot, _ = name.rpartition(".")
    return stem if dot and stem else name


def is_annotation(path: str, target_pattern: re.Pattern) -> bool:
    """True when the file name (not the folders above it) matches the target pattern."""
    return target_pattern.search(split_path(path)[1]) is not None


def annotation_stem(name: str, target_pattern: re.Pattern) -> str:
    """The name of the page an annotation belongs to, without extension."""
    stem = strip_extension(name)
    match = target_pattern.search(stem)
    if not match:
        return stem
    start, end = match.start(), match.end()
    while end < len(stem) and stem[end].isalnum():  # the whole word: `annot` -> `annotation`
        end += 1
    if start > 0 and stem[start - 1] in _SEPARATORS:
        start -= 1
    elif start == 0 and end < len(stem) and stem[end] in _SEPARATORS:
        end += 1
    return stem[:start] + stem[end:]


def pair_key(path: str, target_pattern: re.Pattern) -> tuple[str, str]:
    """(folder, stem) shared by a page and its annotation."""
    folder, name = split_path(path)
    if is_annotation(path, target_pattern):
        return folder, annotation_stem(name, target_pattern)
    return folder, strip_extension(name)


def split_undecodable(paths: Iterable[str]) -> tuple[list[str], list[Skipped]]:
    """Paths whose name is valid UTF-8, and a skip for each of the others.

    A name of other bytes (e.g. Latin-1 from an old archive) cannot be written into the work
    list or the report, nor be named in a TFRecord, so it is left out rather than failing the run.
    """
    good: list[str] = []
    skipped: list[Skipped] = []
    for path in paths:
        if fs.is_utf8_name(path):
            good.append(path)
        else:
            shown = fs.printable_path(path)
            message = f"{shown}: the file name is not valid UTF-8; rename the file to include it"
            skipped.append(Skipped(shown, UNDECODABLE_NAME, message))
    return good, skipped


def find_pairs(
    paths: Iterable[str], target_pattern: re.Pattern | str = DEFAULT_TARGET_PATTERN
) -> tuple[list[Pair], list[Skipped]]:
    """Pair pages with annotations by name; everything that does not pair is skipped."""
    if isinstance(target_pattern, str):
        target_pattern = compile_target_pattern(target_pattern)
    paths, undecodable = split_undecodable(sorted(set(paths)))
    pages: dict[tuple[str, str], list[str]] = defaultdict(list)
    annotations: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in paths:
        group = annotations if is_annotation(path, target_pattern) else pages
        group[pair_key(path, target_pattern)].append(path)

    pairs: list[Pair] = []
    skipped: list[Skipped] = undecodable
    for key in sorted(set(pages) | set(annotations)):
        key_pages, key_annotations = pages.get(key, []), annotations.get(key, [])
        if len(key_pages) > 1:
            skipped.extend(
                Skipped(page, MULTIPLE_PAGES, f"{page}: several pages share one name: {key_pages}")
                for page in key_pages
            )
        elif not key_pages:
            skipped.extend(
                Skipped(a, MISSING_PAGE, f"{a}: no page image with the same name next to it")
                for a in key_annotations
            )
        elif not key_annotations:
            page = key_pages[0]
            skipped.append(
                Skipped(page, MISSING_ANNOTATION, f"{page}: no annotation image next to it")
            )
        elif len(key_annotations) > 1:
            page = key_pages[0]
            skipped.append(
                Skipped(
                    page,
                    MULTIPLE_ANNOTATIONS,
                    f"{page}: several annotations match it, cannot choose: {key_annotations}",
                )
            )
        else:
            pairs.append(Pair(key_pages[0], key_annotations[0]))
    return pairs, skipped
