"""The fonts pages are set in (matplotlib's bundled TTFs) and their metrics.

Widths come from the fonts' own advance widths (no hinting, no kerning), the same numbers a PDF
viewer uses, so the raster page, the PDF and the label rectangles agree on where each word is.
"""

from __future__ import annotations

import os
from functools import cache, lru_cache

STYLES = ("regular", "bold", "italic", "bolditalic")

FAMILY_FILES = {
    "dejavu-serif": (
        "DejaVuSerif.ttf",
        "DejaVuSerif-Bold.ttf",
        "DejaVuSerif-Italic.ttf",
        "DejaVuSerif-BoldItalic.ttf",
    ),
    "dejavu-sans": (
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique.ttf",
    ),
    "stix": (
        "STIXGeneral.ttf",
        "STIXGeneralBol.ttf",
        "STIXGeneralItalic.ttf",
        "STIXGeneralBolIta.ttf",
    ),
    "dejavu-mono": (
        "DejaVuSansMono.ttf",
        "DejaVuSansMono-Bold.ttf",
        "DejaVuSansMono-Oblique.ttf",
        "DejaVuSansMono-BoldOblique.ttf",
    ),
}
TEXT_FAMILIES = ("dejavu-serif", "dejavu-sans", "stix")


def font_key(family: str, bold: bool = False, italic: bool = False) -> str:
    """A font's name in a page description, e.g. 'stix-bolditalic'."""
    style = ("bold" if bold else "") + ("italic" if italic else "") or "regular"
    return f"{family}-{style}"


def split_font_key(key: str) -> tuple[str, str]:
    family, style = key.rsplit("-", 1)
    return family, style


@lru_cache(maxsize=1)
def font_dir() -> str:
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf")


def font_path(key: str) -> str:
    family, style = split_font_key(key)
    return os.path.join(font_dir(), FAMILY_FILES[family][STYLES.index(style)])


class FontMetrics:
    """Advance widths and the typographic ascent/descent of one font file, in em."""

    def __init__(self, path: str):
        from fontTools.ttLib import TTFont

        font = TTFont(path, lazy=True)
        units = font["head"].unitsPerEm
        os2 = font["OS/2"]
        self.ascent = os2.sTypoAscender / units
        self.descent = -os2.sTypoDescender / units
        hmtx = font["hmtx"].metrics
        self._advance = {code: hmtx[name][0] / units for code, name in font.getBestCmap().items()}
        self._missing = hmtx[".notdef"][0] / units
        font.close()

    def has_char(self, char: str) -> bool:
        return ord(char) in self._advance

    def width(self, text: str, size: float) -> float:
        """Advance width of text at a size (same unit as size)."""
        advance = self._advance
        missing = self._missing
        return sum(advance.get(ord(c), missing) for c in text) * size


@cache
def metrics(key: str) -> FontMetrics:
    return FontMetrics(font_path(key))
