"""The page at / in a real browser (Debian's chromium, driven by Playwright): a person picks a
real PDF, sees its pages painted with the legend and its fields beside them, hovers the title
to light up its words, and downloads the JATS. A screenshot is saved in the test's folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from lxml import etree

from sciencebeam_gym.document.jats import parse_article
from tests.service.conftest import need_articles

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECONDS = 120


def comparable(text: str) -> str:
    return re.sub(r"[\W_]+", "", text or "").lower()


def jats_title(xml_path: Path) -> str:
    meta = parse_article(xml_path.read_bytes()).find("front/article-meta")
    return "".join(meta.find("title-group/article-title").itertext())


def show_pdf(page, url: str, pdf: Path, pages: str = "1-2") -> None:
    """Open the page, pick the PDF, and wait for its title and a painted page."""
    page.goto(url + "/")
    page.fill("#page-range", pages)
    page.set_input_files("#file", str(pdf))
    page.wait_for_selector("#fields .title", timeout=SECONDS * 1000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.paint')]"
        ".some((img) => img.complete && img.naturalWidth > 0)",
        timeout=SECONDS * 1000,
    )


@pytest.mark.slow
def test_a_person_picks_a_pdf_and_sees_its_painted_pages_and_fields(oracle_server, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: .ci/run installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pdf, xml = need_articles()[0]
    screenshot = tmp_path / "serve-page.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            show_pdf(page, oracle_server.url, pdf)
            assert comparable(page.text_content("#fields .title")) == comparable(jats_title(xml))
            assert page.locator("#pages .page").count() == 2
            for selector in ("#page-1 img.render", "#page-1 img.paint"):
                shown = page.locator(selector).bounding_box()
                assert shown and shown["width"] > 400 and shown["height"] > 500, selector
            assert page.locator("#legend li").count() >= 3  # title, authors, abstract at least
            page.hover("#fields .title")
            assert page.locator("#page-1 .highlight").count() >= 3  # the title's words
            page.screenshot(path=str(screenshot))
            page.mouse.move(5, 5)
            assert page.locator(".highlight").count() == 0
            with page.expect_download() as download:
                page.click("#download-jats")
            jats = etree.parse(download.value.path()).getroot()
            assert download.value.suggested_filename == pdf.stem + ".xml"
        finally:
            browser.close()
    assert comparable(jats.findtext(".//article-title")) == comparable(jats_title(xml))
    assert screenshot.stat().st_size > 10_000
    print(f"\nscreenshot: {screenshot}")
