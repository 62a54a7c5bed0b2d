"""Fixtures of the extraction tests: real articles of the shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_ARTICLES = REPO_ROOT.parent / "shared" / "data" / "pdf-jats"


def real_article(stem: str) -> tuple[Path, Path]:
    """A real PDF and its JATS from the shared data; the test is skipped when they are absent."""
    pdf, xml = REAL_ARTICLES / f"{stem}.pdf", REAL_ARTICLES / f"{stem}.xml"
    if not (pdf.exists() and xml.exists()):
        pytest.skip(f"{REAL_ARTICLES} does not hold {stem}")
    return pdf, xml
