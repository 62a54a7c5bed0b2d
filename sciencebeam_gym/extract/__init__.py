"""PDF -> structured article: the model paints each page, the PDF's text layer gives the words.

    from sciencebeam_gym.extract import extract_pdf, load_model
    model = load_model(".models/pix2pix/export")  # or a training folder (latest checkpoint)
    article = extract_pdf("paper.pdf", model, pages=None)  # every page
    jats = article.to_jats()  # lxml <article> element
    extract_to("paper.pdf", model, "out/paper.xml", "xml")  # the same, written whole or not at all

TensorFlow is imported only when a model is loaded. See doc/extract.md for the rules.
"""

from sciencebeam_gym.extract.article import ExtractedArticle
from sciencebeam_gym.extract.document import (
    ExtractError,
    extract_document,
    extract_pdf,
    extract_to,
)
from sciencebeam_gym.extract.model import load_model

__all__ = [
    "ExtractError",
    "ExtractedArticle",
    "extract_document",
    "extract_pdf",
    "extract_to",
    "load_model",
]
