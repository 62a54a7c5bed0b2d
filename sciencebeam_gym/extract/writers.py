"""The formats an extracted article is written in, and where its file goes.

data = encode_article(article, "xml")       # JATS XML bytes; "json": the article as JSON;
                                            # "tei": GROBID's TEI (extract/tei.py)
"""

from __future__ import annotations

from sciencebeam_gym.extract.article import ExtractedArticle

FORMATS = ("xml", "json", "tei")
DEFAULT_FORMAT = "xml"
# the file name ending of each format (TEI as GROBID's clients name it, without "grobid")
SUFFIXES = {"xml": "xml", "json": "json", "tei": "tei.xml"}


def encode_article(article: ExtractedArticle, fmt: str) -> bytes:
    """The article's bytes in `fmt` (one of FORMATS)."""
    if fmt == "json":
        return article.to_json().encode("utf-8")
    if fmt == "xml":
        return article.to_jats_bytes()
    if fmt == "tei":
        from sciencebeam_gym.extract.tei import article_to_tei_bytes

        return article_to_tei_bytes(article)
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def output_file(output: str, pdf_path: str, fmt: str) -> str:
    """`<output>/<name of the PDF>.<suffix of fmt>`."""
    from sciencebeam_gym.document.sources import PDF_SUFFIXES
    from sciencebeam_gym.storage import fs

    stem = fs.basename(pdf_path)
    for suffix in PDF_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return fs.join(output, f"{stem}.{SUFFIXES[fmt]}")
