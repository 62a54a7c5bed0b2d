import gzip

import pytest

from sciencebeam_gym.document.pdf import PdfError, open_pdf, render_page
from sciencebeam_gym.document.text_layer import extract_page_text
from tests.generate.factory import PAGE_HEIGHT, pdf_bytes


def test_words_lines_and_boxes_are_in_top_left_points():
    document = open_pdf(pdf_bytes([(72, 700, 12, "Hello wide world"), (72, 680, 12, "Next line")]))
    text = extract_page_text(document[0])
    assert [w.text for w in text.words] == ["Hello", "wide", "world", "Next", "line"]
    assert text.width == 612 and text.height == PAGE_HEIGHT
    first = text.glyph_boxes[text.words[0].glyph_start]
    # baseline at 700 from the bottom: the glyph sits just above y = 792 - 700 = 92
    assert 70 < first[0] < 80 and 75 < first[1] < 92 and 85 < first[3] <= 93
    assert text.word_lines(0) == [0] and text.word_lines(3) == [1]
    top_line, next_line = text.line_boxes[0], text.line_boxes[1]
    assert top_line[3] <= next_line[1] + 1  # lines do not overlap much


def test_render_page_size_follows_dpi():
    document = open_pdf(gzip.compress(pdf_bytes([(72, 700, 12, "x")])))
    image = render_page(document[0], 36)
    assert image.size == (306, 396) and image.mode == "RGB"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty PDF"),
        (b"%PDF-1.4\nnot really a pdf", "corrupt PDF"),
        (b"<html>", "corrupt PDF"),
        (pdf_bytes([(72, 700, 12, "secret")], encrypt=True), "encrypted PDF"),
    ],
)
def test_unusable_pdfs_raise_with_a_reason(data, reason):
    with pytest.raises(PdfError) as error:
        open_pdf(data)
    assert error.value.reason == reason


def test_page_without_text_layer_has_no_words():
    document = open_pdf(pdf_bytes(draw_only=True))
    assert not extract_page_text(document[0]).has_text
