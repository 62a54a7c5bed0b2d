"""Tiny PDFs made with fpdf2 and label images painted over them, for the extraction tests.

A page is a list of `Text` items placed at known positions; `painted` paints a class map over
the same positions (a rectangle per item, from its top to below its baseline), so the tests
know what a model would have painted without running one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sciencebeam_gym.color_map import default_color_map_path, load_color_map

PAGE_WIDTH = 612.0
PAGE_HEIGHT = 792.0
# Class maps painted at this many pixels per point (a 256-pixel model paints about 0.4).
MAP_SCALE = 0.5


@dataclass(frozen=True)
class Text:
    """A run of text: x, baseline y (points from the top), font size, label, raised."""

    x: float
    y: float
    size: float
    text: str
    label: str = ""
    raised: bool = False


def keys_by_label() -> dict[str, int]:
    return {c.label: c.key for c in load_color_map(default_color_map_path()).classes}


def labels_by_value() -> dict[int, str]:
    return {key: label for label, key in keys_by_label().items()}


def make_pdf(pages: list[list[Text]]) -> bytes:
    """A PDF with one page per list, each item in Helvetica at its place (raised: a superscript
    at 60% size, its baseline lifted by a third of the size)."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format=(PAGE_WIDTH, PAGE_HEIGHT))
    pdf.set_auto_page_break(False)
    for items in pages:
        pdf.add_page()
        for item in items:
            pdf.set_font("helvetica", size=item.size)
            pdf.text(item.x, item.y, item.text)
    return bytes(pdf.output())


def text_width(item: Text) -> float:
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    pdf.set_font("helvetica", size=item.size)
    return pdf.get_string_width(item.text)


def then(item: Text, text: str, label: str = "", raised: bool = False, gap: float = 0) -> Text:
    """The text right after `item` on its line (a superscript at 60% size, lifted)."""
    x = item.x + text_width(item) + gap
    if raised:
        return Text(x, item.y - item.size / 3, item.size * 0.6, text, label or item.label, True)
    base_y = item.y + item.size / 3 if item.raised else item.y
    base_size = item.size / 0.6 if item.raised else item.size
    return Text(x, base_y, base_size, text, label or item.label)


def painted(pages: list[list[Text]], scale: float = MAP_SCALE) -> list[np.ndarray]:
    """Per page, a class map with each labelled item's box painted in its class key."""
    keys = keys_by_label()
    maps = []
    for items in pages:
        class_map = np.zeros((round(PAGE_HEIGHT * scale), round(PAGE_WIDTH * scale)), np.uint8)
        for item in items:
            if item.label:
                x0, x1 = item.x, item.x + text_width(item)
                top, bottom = item.y - 1.0 * item.size, item.y + 0.3 * item.size
                rows = slice(int(top * scale), int(np.ceil(bottom * scale)))
                class_map[rows, int(x0 * scale) : int(np.ceil(x1 * scale))] = keys[item.label]
        maps.append(class_map)
    return maps


def paragraph(x: float, y: float, lines: list[str], label: str, size=10.0, leading=1.2):
    """Lines of one block, `leading` x size apart."""
    return [Text(x, y + i * size * leading, size, line, label) for i, line in enumerate(lines)]
