"""The shared PDF renderer: a pixel budget per page, and one page in memory at a time."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import textwrap

import pypdfium2 as pdfium
import pytest

from sciencebeam_gym.document.pdf import PdfError, count_pages, fit_dpi, open_pdf, render_pages


def blank_pdf(pages: int, width: float, height: float) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(width, height)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_giant_page_is_rendered_within_the_pixel_cap_and_says_so(caplog):
    data = blank_pdf(1, 14400, 14400)  # 200 x 200 inches: 20000 x 20000 pixels at 100 dpi
    with caplog.at_level(logging.WARNING):
        ((number, image),) = list(render_pages(data, "huge.pdf", dpi=100, max_pixels=1_000_000))
    assert number == 1
    assert image.width * image.height <= 1_000_000
    assert image.width > 900 and image.height > 900  # scaled to fit, not to a thumbnail
    assert "huge.pdf page 1" in caplog.text and "--max_page_pixels" in caplog.text


def test_a_page_within_the_cap_keeps_its_dpi(caplog):
    data = blank_pdf(1, 612, 792)
    with caplog.at_level(logging.WARNING):
        ((_, image),) = list(render_pages(data, dpi=72, max_pixels=612 * 792))
    assert image.size == (612, 792)
    assert caplog.text == ""


@pytest.mark.parametrize("size", [(14400, 14400), (100000, 10), (10, 100000), (595, 842)])
@pytest.mark.parametrize("cap", [12345, 1_000_000, 25_000_000])
def test_fitted_resolution_never_exceeds_the_cap(size, cap):
    data = blank_pdf(1, *size)
    document = pdfium.PdfDocument(data)
    dpi = fit_dpi(size, 100, cap)
    bitmap = document[0].render(scale=dpi / 72)
    assert bitmap.width * bitmap.height <= cap
    assert dpi <= 100


def test_pages_are_rendered_one_at_a_time():
    # 30 pages of 2000 x 2000 pixels: 360 MB of RGB when held together, 12 MB one at a time
    script = textwrap.dedent(
        """
        import resource, sys
        from tests.document.test_pdf import blank_pdf
        from sciencebeam_gym.document.pdf import render_pages
        data = blank_pdf(30, 1440, 1440)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        count = sum(1 for _ in render_pages(data, dpi=100))
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(count, grown // 1024)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    count, grown_mb = (int(v) for v in result.stdout.split())
    assert count == 30
    assert grown_mb < 120, f"peak memory grew by {grown_mb} MB while rendering"


def test_max_pages_and_count():
    data = blank_pdf(5, 100, 100)
    assert count_pages(data) == 5
    assert [n for n, _ in render_pages(data, max_pages=2)] == [1, 2]


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty PDF"), (b"hello", "corrupt PDF"), (b"%PDF-1.4\nno body", "corrupt PDF")],
)
def test_unusable_pdfs_name_the_file_and_the_reason(data, reason):
    with pytest.raises(PdfError) as error:
        next(render_pages(data, "bad.pdf"))
    assert error.value.reason == reason and str(error.value).startswith("bad.pdf: ")


def test_a_pdf_refused_right_after_an_encrypted_one_is_not_called_encrypted():
    from tests.generate.factory import pdf_bytes

    for data, reason in [
        (pdf_bytes([(72, 700, 12, "secret")], encrypt=True), "encrypted PDF"),
        (blank_pdf(0, 612, 792), "corrupt PDF"),  # pdfium sets no error of its own for it
        (pdf_bytes([(72, 700, 12, "secret")], encrypt=True), "encrypted PDF"),
    ]:
        with pytest.raises(PdfError) as error:
            open_pdf(data)
        assert error.value.reason == reason
