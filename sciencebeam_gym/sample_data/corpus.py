"""One sample document end to end: content, layout, raster, files; and the corpus layout.

Layout of the corpus (the original data format)::

    <output>/<split>/<group>/<doc_id>/<doc_id>-page1.png         page image (RGB)
    <output>/<split>/<group>/<doc_id>/<doc_id>-page1.annot.png   label image (grey k = class k)
    <output>/<split>/<group>/<doc_id>/<doc_id>.pdf, <doc_id>.xml  with --format pdf
    <output>/<split>/<group>/<doc_id>/<doc_id>-page1.tokens.json  with --format pdf: the PDF's
                                                                  words and their classes
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sciencebeam_gym.sample_data.article import Article, generate_article
from sciencebeam_gym.sample_data.design import Style, compose_page
from sciencebeam_gym.sample_data.layout import Page
from sciencebeam_gym.sample_data.render import (
    png_bytes,
    render_label_image,
    render_page_image,
)
from sciencebeam_gym.storage import fs

GROUP_PREFIX = "sample-"
DOCS_PER_GROUP = 100
MIN_HEIGHT_PX, MAX_HEIGHT_PX = 1150, 1650


@dataclass
class Document:
    doc_id: str
    group: str
    article: Article
    page: Page
    style: Style
    dpi: int


@dataclass
class RenderedDocument:
    """A document's files (path, bytes) and what the summary reports about it."""

    doc_id: str
    files: list[tuple[str, bytes]]
    size: tuple[int, int]
    dpi: int
    labels: list[str]
    page_size: str
    columns: int
    fonts: list[str]


def doc_id_for(split: str, index: int) -> str:
    return f"{GROUP_PREFIX}{split}-{index:05d}"


def group_for(index: int) -> str:
    return f"{GROUP_PREFIX}{index // DOCS_PER_GROUP:03d}"


def document_seed(seed: int, split: str, index: int) -> str:
    """Each page's own seed: derived from the corpus seed, the split and the page number, so
    train and test differ and a page does not depend on which worker made it."""
    return f"sciencebeam-gym-sample/{seed}/{split}/{index}"


def choose_dpi(page: Page, rng: random.Random) -> int:
    """A whole-number DPI that makes the page 1150-1650 pixels tall."""
    low = MIN_HEIGHT_PX * 72 / page.height
    high = MAX_HEIGHT_PX * 72 / page.height
    return rng.randint(int(low) + 1, int(high))


def make_document(split: str, index: int, seed: int, dpi: int = 0) -> Document:
    """Content and layout of one sample page (dpi 0: chosen per page)."""
    rng = random.Random(document_seed(seed, split, index))
    doc_id = doc_id_for(split, index)
    article = generate_article(rng, doc_id, short=rng.random() < 0.45)
    page, style = compose_page(article, rng)
    page_dpi = dpi or choose_dpi(page, rng)
    return Document(doc_id, group_for(index), article, page, style, page_dpi)


def document_folder(output_path: str, split: str, document: Document) -> str:
    return fs.join(output_path, split, document.group, document.doc_id)


def document_files(
    document: Document, output_path: str, split: str, keys: dict[str, int], write_pdf: bool = False
) -> RenderedDocument:
    """The page PNG and its label PNG (and with write_pdf the PDF and JATS XML), as bytes."""
    base = fs.join(document_folder(output_path, split, document), document.doc_id)
    page_image = render_page_image(document.page, document.dpi)
    label_image = render_label_image(document.page, document.dpi, keys)
    files = [
        (f"{base}-page1.png", png_bytes(page_image, document.dpi)),
        (f"{base}-page1.annot.png", png_bytes(label_image, document.dpi)),
    ]
    if write_pdf:
        from sciencebeam_gym.document.tokens import encode_tokens, tokens_path
        from sciencebeam_gym.sample_data.jats import jats_xml_bytes
        from sciencebeam_gym.sample_data.pdf import pdf_bytes
        from sciencebeam_gym.sample_data.tokens import sample_tokens

        pdf = pdf_bytes(document.page, document.article)
        files.append((f"{base}.pdf", pdf))
        files.append((f"{base}.xml", jats_xml_bytes(document.article)))
        tokens = sample_tokens(pdf, document.page.regions, document.doc_id, document.group, keys)
        files.append((tokens_path(f"{base}-page1"), encode_tokens(tokens)))
    style = document.style
    return RenderedDocument(
        doc_id=document.doc_id,
        files=files,
        size=page_image.size,
        dpi=document.dpi,
        labels=sorted({r.label for r in document.page.regions if keys.get(r.label)}),
        page_size=style.page_size,
        columns=style.columns,
        fonts=sorted({style.body_family, style.heading_family}),
    )


def write_files(rendered: RenderedDocument) -> list[str]:
    """Write a document's files (each atomically); returns their paths."""
    for path, data in rendered.files:
        fs.write_bytes(path, data)
    return [path for path, _ in rendered.files]


def existing_sample_files(output_path: str, split: str) -> list[str]:
    """Files an earlier run of the generator wrote for a split (and nothing else)."""
    pattern = fs.join(output_path, split, f"{GROUP_PREFIX}*", f"{GROUP_PREFIX}{split}-*", "*")
    return fs.glob(pattern)
