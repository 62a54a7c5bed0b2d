"""A page's words: fonts, sizes, raised runs, blocks; linear work on many glyphs."""

from __future__ import annotations

import time

import pytest

from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.text_layer import extract_page_text, font_from_info
from sciencebeam_gym.document.words import clean_text, page_words
from tests.extract.pages import Text, make_pdf, paragraph, then


def words_of(pdf: bytes, page: int = 0):
    return page_words(extract_page_text(open_pdf(pdf)[page]))


def styled_pdf(runs: list[tuple[float, float, str, str, float]]) -> bytes:
    """One page with (x, baseline y, style "", "B", "I" or "BI", text, size) runs in Helvetica."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format=(612, 792))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    for x, y, style, text, size in runs:
        pdf.set_font("helvetica", style=style, size=size)
        pdf.text(x, y, text)
    return bytes(pdf.output())


def test_each_word_has_its_font_style_and_a_size_that_follows_the_font_size():
    pdf = styled_pdf(
        [
            (72, 100, "B", "Bold Title", 20),
            (72, 140, "", "plain body", 10),
            (72, 160, "I", "slanted words", 10),
            (72, 180, "BI", "both", 10),
        ]
    )
    words = words_of(pdf)
    styles = {w.text: (w.font.bold, w.font.italic) for w in words}
    assert styles == {
        "Bold": (True, False),
        "Title": (True, False),
        "plain": (False, False),
        "body": (False, False),
        "slanted": (False, True),
        "words": (False, True),
        "both": (True, True),
    }
    assert all("Helvetica" in w.font.name for w in words)
    title, body = words[0].size, words[2].size
    assert 1.8 < title / body < 2.2  # 20 pt against 10 pt


@pytest.mark.parametrize(
    ("name", "flags", "weight", "expected"),
    [
        ("ABCDEF+Times-Bold", 0, -1, ("Times-Bold", True, False)),
        ("MyriadPro-CondIt", 64, 385, ("MyriadPro-CondIt", False, True)),
        ("AdvTT3f84ef53.B", 0, 0, ("AdvTT3f84ef53.B", True, False)),
        ("Palatino-Roman", 32, 420, ("Palatino-Roman", False, False)),
        ("Anything", 1 << 18, -1, ("Anything", True, False)),  # the ForceBold flag
        ("Anything", 0, 700, ("Anything", True, False)),
    ],
)
def test_font_style_comes_from_flags_weight_or_name(name, flags, weight, expected):
    font = font_from_info(name, flags, weight)
    assert (font.name, font.bold, font.italic) == expected


def test_raised_glyphs_are_runs_of_their_own():
    name = Text(72, 100, 12, "Lee", "author")
    words = words_of(
        make_pdf([[name, then(name, "1,a", raised=True), Text(72, 130, 12, "O'Neil")]])
    )
    assert [w.runs for w in words] == [(("Lee", False), ("1,a", True)), (("O'Neil", False),)]
    assert words[0].plain == "Lee" and words[0].raised and not words[1].raised


def test_blocks_join_close_lines_of_a_size_and_part_at_gaps_and_size_changes():
    title = [Text(72, 80, 20, "A big title")]
    first = paragraph(72, 140, ["one line of a paragraph", "its second line"], "", size=10)
    second = paragraph(72, 220, ["another paragraph far below"], "", size=10)
    side = paragraph(350, 140, ["a column beside"], "", size=10)
    words = words_of(make_pdf([title + first + second + side]))
    blocks = {}
    for word in words:
        blocks.setdefault(word.block, []).append(word.text)
    assert sorted(" ".join(texts) for texts in blocks.values()) == sorted(
        [
            "A big title",
            "one line of a paragraph its second line",
            "another paragraph far below",
            "a column beside",
        ]
    )


def test_text_is_made_fit_for_xml():
    assert clean_text("a\ud835\udc65b") == "a\U0001d465b"  # a surrogate pair: one character
    assert clean_text("a\ud835b\x0bc") == "abc"  # a lone surrogate, a control character


def _one_glyph_per_line_pdf(count: int) -> bytes:
    """A page where every glyph sits on a line of its own (the worst case for per-line work)."""
    items = [Text(10 + (i % 50) * 11, 10 + (i // 50) * 0.9, 1, "x") for i in range(count)]
    return make_pdf([items])


def test_words_of_many_lines_cost_linear_time():
    small, large = _one_glyph_per_line_pdf(1000), _one_glyph_per_line_pdf(8000)

    def seconds(pdf):
        page = open_pdf(pdf)[0]
        started = time.perf_counter()
        text = extract_page_text(page)
        words = page_words(text)
        return time.perf_counter() - started, len(text.line_boxes), len(words)

    seconds(small)  # warm up
    small_time, small_lines, _ = seconds(small)
    large_time, large_lines, large_words = seconds(large)
    assert large_lines > 4 * small_lines and large_words == 8000
    # 8x the glyphs: linear work takes ~8x as long, quadratic work 64x; allow for noise
    assert large_time < 20 * small_time
