"""The token file of a sample page: the words of its PDF's text layer, each with the class of the
layout region it lies in (`document.tokens` holds the schema)."""

from __future__ import annotations

import numpy as np

from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.document.tokens import NO_INSTANCE, PageTokens, capped
from sciencebeam_gym.document.words import PageWord, page_words
from sciencebeam_gym.sample_data.layout import Region

# A word takes a region's class when the region covers at least this share of its box.
MIN_REGION_SHARE = 0.5


def label_by_regions(words: list[PageWord], regions: list[Region]) -> list[int]:
    """Set each word's label from the regions, in the order the label image paints them (a
    later region over an earlier one wins); words outside every region stay unlabelled. The
    instance of each word: one per (class, run group) of the page (NO_INSTANCE outside)."""
    instances = [NO_INSTANCE] * len(words)
    if not words or not regions:
        return instances
    boxes = np.array([w.box for w in words], dtype=np.float64)
    areas = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1e-6)
    labels = [""] * len(words)
    numbers: dict[tuple[str, int], int] = {}
    for region in regions:
        width = np.minimum(boxes[:, 2], region.x1) - np.maximum(boxes[:, 0], region.x0)
        height = np.minimum(boxes[:, 3], region.y1) - np.maximum(boxes[:, 1], region.y0)
        covered = np.clip(width, 0, None) * np.clip(height, 0, None) / areas
        instance = numbers.setdefault((region.label, region.group), len(numbers))
        for index in np.flatnonzero(covered >= MIN_REGION_SHARE).tolist():
            labels[index] = region.label
            instances[index] = instance
    for word, label in zip(words, labels, strict=True):
        word.label = label
    return instances


def sample_tokens(
    pdf: bytes, regions: list[Region], doc_id: str, group: str, keys: dict[str, int]
) -> PageTokens:
    """The token file of a one-page sample PDF; only regions of classes in `keys` label words
    (as only they are painted)."""
    document = open_pdf(pdf)
    try:
        page = document[0]
        text = extract_page_text(page)
        page.close()
    finally:
        document.close()
    words = page_words(text)
    instances = label_by_regions(words, [r for r in regions if keys.get(r.label)])
    tokens = PageTokens(doc_id, 1, text.width, text.height, words, instances, group=group)
    return capped(tokens)
