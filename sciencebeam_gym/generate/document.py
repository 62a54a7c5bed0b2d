"""One document: PDF + XML bytes -> for each chosen page, the page image, label image, token file
(its words with the classes the alignment gave) and the token coverage of every field. `generate_pages` is pure (bytes in, images out, one page at a
time); `process_pair` reads and writes files and turns bad input into a skip reason."""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from sciencebeam_gym.color_map import UNKNOWN_KEY, UNKNOWN_LABEL, ColorMap
from sciencebeam_gym.data_layout import SPLITS, TEST
from sciencebeam_gym.document import limits
from sciencebeam_gym.document.errors import SkipError
from sciencebeam_gym.document.jats import XmlError, extract_fields, parse_article, publisher_group
from sciencebeam_gym.document.pages import FIRST_PAGE, PageSelection, as_selection
from sciencebeam_gym.document.pdf import (
    DEFAULT_DPI,
    DEFAULT_MAX_PAGE_PIXELS,
    UNRENDERABLE_PAGE,
    PdfError,
    open_pdf,
    render_page,
)
from sciencebeam_gym.document.sources import SourcePair
from sciencebeam_gym.document.text_layer import PageText, extract_page_text
from sciencebeam_gym.document.tokens import (
    TOKENS_SUFFIX,
    PageTokens,
    encode_tokens,
    tokens_path,
)
from sciencebeam_gym.document.xml_mapping import XmlMapping
from sciencebeam_gym.generate.align import FieldMatch, align_fields
from sciencebeam_gym.generate.paint import overlay_image, paint_rotated_label_image
from sciencebeam_gym.generate.splits import DEFAULT_TEST_FRACTION, split_for
from sciencebeam_gym.generate.tokens import aligned_tokens
from sciencebeam_gym.storage import fs

OK = "ok"
SKIPPED = "skipped"
NO_TEXT_LAYER = "no text layer"
NO_MATCHING_FIELDS = "no matching fields"
UNDECODABLE_NAME = "undecodable file name"
# What page text no field claims becomes (--unknown_text): unknown (ignored by the loss and the
# metrics), or background as in the original.
UNKNOWN_TEXT_CHOICES = (UNKNOWN_LABEL, "background")


class SkipDocument(Exception):
    """A document that cannot give training data; `reason` goes into the report."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class GeneratedPage:
    page_number: int  # 1-based
    image: Image.Image
    label: np.ndarray
    matches: list[FieldMatch]
    figures: dict = field(default_factory=dict)  # `page_row`, counted before --unknown_text
    tokens: PageTokens | None = None  # its words with their classes, for the token file


@dataclass(frozen=True)
class Settings:
    """What every document needs: pages, resolution, classes and the XML mapping."""

    output_path: str
    color_map: ColorMap
    mapping: XmlMapping
    pages: PageSelection | tuple[int, ...] = FIRST_PAGE  # 1-based; empty means every page
    test_pages: PageSelection | tuple[int, ...] | None = None  # of test documents; None: `pages`
    dpi: float = DEFAULT_DPI
    test_fraction: float = DEFAULT_TEST_FRACTION
    group: str = "generated"
    group_by_publisher: bool = False  # `--group publisher`: each document's publisher is its group
    overlay_path: str | None = None
    max_page_pixels: int = DEFAULT_MAX_PAGE_PIXELS  # larger pages are rendered at a lower dpi
    unknown_text: str = UNKNOWN_LABEL  # one of UNKNOWN_TEXT_CHOICES
    timeout: float | None = None  # seconds one document may take (None: no limit)

    @property
    def keys_by_label(self) -> dict[str, int]:
        return {c.label: c.key for c in self.color_map.classes}

    def label_to_write(self, label: np.ndarray) -> np.ndarray:
        """The painted label as written: unknown text made background if so chosen."""
        if self.unknown_text == UNKNOWN_LABEL:
            return label
        return np.where(label == UNKNOWN_KEY, 0, label).astype(np.uint8)


@dataclass
class DocumentResult:
    """What happened to one document, for the run's report."""

    doc_id: str
    split: str
    status: str
    reason: str = ""
    detail: str = ""
    pdf: str | None = None
    xml: str | None = None
    pages: list[int] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    fields: list[dict] = field(default_factory=list)  # one row per page and label
    page_rows: list[dict] = field(default_factory=list)  # one row per page (`page_row`)
    seconds: float = 0.0


def generate_pages(
    pdf_bytes: bytes, xml_bytes: bytes, settings: Settings, name: str = "the PDF"
) -> Iterator[GeneratedPage]:
    """Render the chosen pages and paint the XML's fields on them, one page at a time.

    Every page is aligned before the first is rendered, so SkipDocument (bad input) comes
    before any page does.
    """
    try:
        article = parse_article(xml_bytes)
    except XmlError as error:
        raise SkipDocument(error.reason, str(error)) from error
    fields = extract_fields(article, settings.mapping)
    if not fields:
        raise SkipDocument(NO_MATCHING_FIELDS, "the mapping selects nothing in this XML")
    try:
        document = open_pdf(pdf_bytes)
    except PdfError as error:
        raise SkipDocument(error.reason, str(error)) from error
    deadline = limits.Deadline(settings.timeout, name)
    try:
        aligned = align_pages(document, fields, settings.pages, deadline)
        for number, text, matches in aligned:
            deadline.check(f"rendering page {number}")
            page = document[number - 1]
            image = render_page(
                page, settings.dpi, settings.max_page_pixels, f"{name} page {number}"
            )
            label = paint_rotated_label_image(
                text, matches, settings.keys_by_label, image.size, page.get_rotation()
            )
            tokens = aligned_tokens(text, matches, number, len(document), page.get_rotation())
            page.close()
            figures = page_row(label, settings.color_map, number)
            figures["words"] = tokens.truncated or len(tokens.words)
            figures["words_cut"] = tokens.truncated
            label = settings.label_to_write(label)
            yield GeneratedPage(number, image, label, matches, figures, tokens)
    finally:
        document.close()


def align_pages(
    document, fields, pages: PageSelection | tuple[int, ...], deadline=limits.NO_DEADLINE
) -> list[tuple[int, PageText, list]]:
    """(page number, text layer, field matches) of each chosen page with text; SkipDocument
    when no page has text or no field is found on any; LimitError past a bound."""
    page_count = len(document)
    numbers = as_selection(pages).select(page_count)
    if not numbers:
        raise SkipDocument("page out of range", f"the PDF has {page_count} pages")
    limits.check_page_count(len(numbers), "the PDF")
    aligned = []
    for number in numbers:
        deadline.check(f"page {number}")
        page = document[number - 1]
        text = extract_page_text(page)
        page.close()
        if text.has_text:
            aligned.append((number, text, align_fields(text, fields, page_index=number - 1)))
    if not aligned:
        raise SkipDocument(NO_TEXT_LAYER, "the page has no extractable text (scanned?)")
    if not any(m.found for _number, _text, matches in aligned for m in matches):
        raise SkipDocument(NO_MATCHING_FIELDS, "no field of the XML was found on the page")
    return aligned


def coverage_rows(matches: list[FieldMatch], page_number: int) -> list[dict]:
    """Per label: instances in the XML and on the page, tokens, and tokens found and painted."""
    rows: dict[str, dict] = {}
    for match in matches:
        row = rows.setdefault(
            match.field.label,
            {
                "label": match.field.label,
                "page": page_number,
                "instances": 0,
                "instances_found": 0,
                "tokens": 0,
                "tokens_on_page": 0,
                "tokens_found": 0,
            },
        )
        row["instances"] += 1
        row["tokens"] += match.tokens
        if match.found:
            row["instances_found"] += 1
            row["tokens_on_page"] += match.tokens
            row["tokens_found"] += match.matched
    for row in rows.values():
        row["coverage"] = (
            round(row["tokens_found"] / row["tokens_on_page"], 4) if row["tokens_on_page"] else 0.0
        )
    return list(rows.values())


def page_row(label: np.ndarray, color_map: ColorMap, page_number: int) -> dict:
    """A page's label figures: text pixels (fields + unknown), the unknown share of the page
    and of its text, and the classes painted on it (by key, space-separated)."""
    counts = np.bincount(label.ravel(), minlength=256)
    pixels = int(label.size)
    unknown = int(counts[UNKNOWN_KEY])
    text = pixels - int(counts[0])
    return {
        "page": page_number,
        "pixels": pixels,
        "text_pixels": text,
        "unknown_pixels": unknown,
        "unknown_fraction": round(unknown / pixels, 4) if pixels else 0.0,
        "unknown_text_fraction": round(unknown / text, 4) if text else 0.0,
        "classes": " ".join(c.label for c in color_map.classes if counts[c.key]),
    }


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def output_base(settings: Settings, split: str, doc_id: str, page_number: int) -> str:
    folder = fs.join(settings.output_path, split, settings.group, doc_id)
    return fs.join(folder, f"{doc_id}-page{page_number}")


def write_page_pair(
    base: str, page_png: bytes, label_png: bytes, tokens: bytes | None = None
) -> list[str]:
    """Write a page, its label and its token file as one unit: the old label and token file go
    first, the new label and token file last; the paths written.

    Each file is replaced atomically; a run killed in between leaves a page without a label or
    without a token file, which preprocessing and the word labeller skip, never a page of one
    run paired with the label or the words of another.
    """
    fs.delete([f"{base}.annot.png", tokens_path(base)])
    fs.write_bytes(f"{base}.png", page_png)
    fs.write_bytes(f"{base}.annot.png", label_png)
    written = [f"{base}.png", f"{base}.annot.png"]
    if tokens is not None:
        fs.write_bytes(tokens_path(base), tokens)
        written.append(tokens_path(base))
    return written


def remove_earlier_pages(settings: Settings, doc_id: str, keep: set[str] = frozenset()) -> None:
    """Delete the document's pages of earlier runs (other pages, the other split) but `keep`.

    Labels go first, so a kill in between leaves no stale page with its label.
    """
    folder = fs.join(fs.escape_glob(settings.group), fs.escape_glob(doc_id))
    names = [f"{fs.escape_glob(doc_id)}-page[0-9]*{suffix}" for suffix in (".png", TOKENS_SUFFIX)]
    patterns = [
        fs.join(fs.escape_glob(settings.output_path), s, folder, name)
        for s in SPLITS
        for name in names
    ]
    stale = [path for path in fs.glob_many(patterns) if path not in keep]
    labels = [path for path in stale if path.endswith((".annot.png", TOKENS_SUFFIX))]
    fs.delete(labels)
    fs.delete([path for path in stale if path not in labels])


def write_pages(
    pages: Iterable[GeneratedPage], settings: Settings, split: str, doc_id: str, result
):
    """Write the pages and labels (and overlays) of a document; fills in `result`."""
    for page in pages:
        base = output_base(settings, split, doc_id, page.page_number)
        label_png = png_bytes(Image.fromarray(page.label, "L"))
        page.tokens.doc_id, page.tokens.group = doc_id, settings.group
        tokens = encode_tokens(page.tokens)
        result.outputs += write_page_pair(base, png_bytes(page.image), label_png, tokens)
        result.pages.append(page.page_number)
        result.fields += coverage_rows(page.matches, page.page_number)
        result.page_rows.append(page.figures)
        if settings.overlay_path:
            overlay = overlay_image(page.image, page.label, settings.color_map)
            name = f"{doc_id}-page{page.page_number}.overlay.png"
            fs.write_bytes(fs.join(settings.overlay_path, name), png_bytes(overlay))


def settings_for_split(settings: Settings, split: str) -> Settings:
    """In the test split, `test_pages` (e.g. train on whole articles, test on first pages)."""
    if split == TEST and settings.test_pages is not None:
        return dataclasses.replace(settings, pages=settings.test_pages)
    return settings


def settings_for_group(pair: SourcePair, settings: Settings, xml_bytes: bytes) -> Settings:
    """The settings with the document's own group: a file list's group column, or with
    `--group publisher` the publisher its XML names (the source's name when it names none)."""
    group = pair.group
    if not group and settings.group_by_publisher:
        group = publisher_group(xml_bytes)
    return dataclasses.replace(settings, group=group) if group else settings


def process_pair(pair: SourcePair, settings: Settings) -> DocumentResult:
    """Generate and write one document's pages; bad input ends as a skipped result, not an error.

    Pages that an earlier run wrote for the document and this run does not are removed, so the
    data folder holds one run's view of each document.
    """
    started = time.monotonic()
    split = pair.split or split_for(pair.doc_id, settings.test_fraction)
    settings = settings_for_split(settings, split)
    pdf, xml = (fs.printable_path(p) if p else p for p in (pair.pdf, pair.xml))
    result = DocumentResult(pair.doc_id, split, OK, pdf=pdf, xml=xml)
    try:
        if not all(fs.is_utf8_name(p) for p in (pair.pdf, pair.xml) if p):
            raise SkipDocument(UNDECODABLE_NAME, f"{pdf or xml}: rename the files to UTF-8 names")
        if not pair.pdf:
            raise SkipDocument("missing PDF partner", f"no PDF next to {pair.xml}")
        if not pair.xml:
            raise SkipDocument("missing XML partner", f"no XML next to {pair.pdf}")
        pdf_bytes = _read(pair.pdf, "missing PDF file", limits.MAX_PDF_BYTES)
        xml_bytes = _read(pair.xml, "missing XML file", limits.MAX_XML_BYTES)
        settings = settings_for_group(pair, settings, xml_bytes)
        pages = generate_pages(pdf_bytes, xml_bytes, settings, pair.pdf)
        write_pages(pages, settings, split, pair.doc_id, result)
        # pages of earlier runs that this run did not write (after writing: a page is
        # rendered only once it is needed, so the set is known at the end)
        remove_earlier_pages(settings, pair.doc_id, set(result.outputs))
    except (SkipDocument, SkipError) as skip:  # SkipError: a bound of document.limits
        result.status, result.reason, result.detail = SKIPPED, skip.reason, skip.detail
    except pdfium.PdfiumError as error:  # a page the page tree names but pdfium cannot load
        result.status, result.reason, result.detail = SKIPPED, UNRENDERABLE_PAGE, str(error)
    except Exception as error:  # noqa: BLE001 - one broken document must not stop the run
        result.status, result.reason = SKIPPED, "unexpected error"
        result.detail = f"{type(error).__name__}: {error}"
    if result.status != OK:
        _remove_pages_of_skipped(settings, pair.doc_id, result)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _remove_pages_of_skipped(settings: Settings, doc_id: str, result: DocumentResult) -> None:
    try:
        remove_earlier_pages(settings, doc_id)
    except Exception as error:  # noqa: BLE001 - reported with the skip, the run goes on
        result.detail += f" (its pages of an earlier run could not be removed: {error})"


def _read(path: str, reason: str, max_bytes: int) -> bytes:
    """A file's bytes (gunzipped within `max_bytes`); SkipDocument with its cause."""
    try:
        return limits.read_document(path, max_bytes)
    except limits.LimitError as error:
        raise SkipDocument(error.reason, error.detail) from error
    except Exception as error:  # noqa: BLE001 - any read failure is a skip with its cause
        raise SkipDocument(reason, f"{path}: {error}") from error
