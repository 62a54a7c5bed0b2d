"""What the page at `/` shows of one PDF: each page with the model's paint over it, the colour
legend, the extracted fields, and for each field the boxes of the words it was made of.

The extraction runs as for /api/convert, with a `RecordingLabeller` keeping each page's render
and class map. The words come from the pages' text layers, laid into blocks by the extraction's
own rules (`extract.layout.page_blocks`) and matched to each field in reading order
(`locate_items`): hovering a field on the page lights up exactly the words it came from.
Boxes are in points from the page's top-left corner, pages upright (as the text layer is).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence

import numpy as np
from PIL import Image

from sciencebeam_gym.color_map import default_color_map_path, load_color_map
from sciencebeam_gym.document.pdf import open_pdf
from sciencebeam_gym.document.text_layer import extract_page_text
from sciencebeam_gym.document.words import PageWord
from sciencebeam_gym.extract import fields as field_labels
from sciencebeam_gym.extract.article import ExtractedArticle
from sciencebeam_gym.extract.layout import page_blocks

JPEG_QUALITY = 80
# A field's next word is looked for at most this many words after the last one found: enough
# to step over a heading ("Abstract") or a raised mark, not enough to jump to another field.
MATCH_WINDOW = 12
WORD_CHARACTERS = re.compile(r"[^\w]+", re.UNICODE)

OrderedWord = tuple[str, int, PageWord]  # label, page number, word
FieldBox = list[float]  # page, x0, top, x1, bottom


class RecordingLabeller:
    """A labeller that keeps what it painted: per page its render (JPEG) and class map."""

    def __init__(self, inner):
        self.inner = inner
        self.dpi = inner.dpi
        self.labels_by_value = inner.labels_by_value
        self.pages: list[tuple[bytes, np.ndarray]] = []

    def label_pages(self, images):
        maps = self.inner.label_pages(images)
        for image, class_map in zip(images, maps, strict=True):
            self.pages.append((encode_jpeg(image), np.asarray(class_map, dtype=np.uint8)))
        return maps


def encode_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def colors_by_label(labeller) -> dict[str, tuple[int, int, int]]:
    """The colour of each class: the model's own colour map, else the toolkit's."""
    info = getattr(labeller, "info", None)
    color_map = info.color_map if info is not None else load_color_map(default_color_map_path())
    return {c.label: tuple(int(v) for v in c.color) for c in color_map.classes}


def paint_png(class_map: np.ndarray, labeller, colors: dict[str, tuple[int, int, int]]) -> bytes:
    """The class map in the class colours, transparent where nothing was painted (the page
    shows through; the browser scales it over the page)."""
    rgba = np.zeros((*class_map.shape, 4), dtype=np.uint8)
    for value, label in labeller.labels_by_value.items():
        where = class_map == value
        if label in colors and where.any():
            rgba[where] = (*colors[label], 255)
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG")
    return out.getvalue()


def upright_jpeg(jpeg: bytes, turns: int) -> bytes:
    if not turns:
        return jpeg
    image = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    return encode_jpeg(Image.fromarray(np.ascontiguousarray(np.rot90(image, k=turns))))


def read_page_words(data: bytes, numbers: Sequence[int], recorded, labeller, colors):
    """Per page what the page shows (image, paint, size); and every labelled word in reading
    order. The class maps are turned upright as extract/document.py turns them."""
    pages, ordered = [], []
    document = open_pdf(data)
    try:
        for number, (jpeg, class_map) in zip(numbers, recorded, strict=True):
            page = document[number - 1]
            turns = (page.get_rotation() // 90) % 4
            upright = np.ascontiguousarray(np.rot90(class_map, k=turns))
            text = extract_page_text(page)
            page.close()
            for block in page_blocks(text, upright, labeller.labels_by_value, number):
                ordered.extend((block.label, number, word) for word in block.words)
            values = {int(v) for v in np.unique(upright)}
            pages.append(
                {
                    "number": number,
                    "width": round(text.width, 2),
                    "height": round(text.height, 2),
                    "image": data_url(upright_jpeg(jpeg, turns), "image/jpeg"),
                    "paint": data_url(paint_png(upright, labeller, colors), "image/png"),
                    "labels": sorted(
                        labeller.labels_by_value[v] for v in values if v in labeller.labels_by_value
                    ),
                }
            )
    finally:
        document.close()
    return pages, ordered


def normalise(text: str) -> str:
    return WORD_CHARACTERS.sub("", text).lower()


def _matches(token: str, word: PageWord) -> bool:
    """Whether a word of the page spells a token of the field: the same, the same with marks
    glued on (`Lee1`), or one holding the other (a word the field split or joined)."""
    for candidate in (normalise(word.text), normalise(word.plain)):
        if not candidate:
            continue
        if candidate == token or (
            candidate.startswith(token) and candidate[len(token) :].isdigit()
        ):
            return True
        if (len(token) > 3 and token in candidate) or (len(candidate) > 3 and candidate in token):
            return True
    return False


def word_box(page: int, word: PageWord) -> FieldBox:
    return [page, *(round(float(v), 2) for v in word.box)]


def locate_items(
    items: Sequence[str], words: Sequence[tuple[int, PageWord]]
) -> list[list[FieldBox]]:
    """For each item (in the order the field lists them), the boxes of the words that spell it,
    looked for in reading order from where the previous item ended."""
    located, start = [], 0
    for item in items:
        found, position = [], start
        for token in filter(None, (normalise(t) for t in item.split())):
            end = min(len(words), position + MATCH_WINDOW)
            hit = next((k for k in range(position, end) if _matches(token, words[k][1])), None)
            if hit is not None:
                found.append(hit)
                position = hit + 1
        if found:
            start = found[-1] + 1
        located.append([word_box(*words[k]) for k in found])
    return located


def words_of(ordered: Sequence[OrderedWord], labels: Sequence[str]) -> list[tuple[int, PageWord]]:
    return [(page, word) for label, page, word in ordered if label in labels]


def field_boxes(article: ExtractedArticle, ordered: Sequence[OrderedWord]) -> dict:
    """The words of each field (and of each author, affiliation, section, reference)."""
    fl = field_labels

    def one(text: str, *labels: str) -> list[FieldBox]:
        return locate_items([text], words_of(ordered, labels))[0] if text else []

    # titles and paragraphs in one pass: they alternate in reading order
    items = [text for s in article.sections for text in (s.title, *s.paragraphs)]
    found = iter(locate_items(items, words_of(ordered, (fl.SECTION_TITLE, *fl.PARAGRAPHS))))
    sections = []
    for section in article.sections:
        title = next(found)
        sections.append({"title": title, "paragraphs": [next(found) for _ in section.paragraphs]})
    return {
        "title": one(article.title, fl.TITLE),
        "authors": locate_items([a.text for a in article.authors], words_of(ordered, [fl.AUTHOR])),
        "affiliations": locate_items(
            [a.text for a in article.affiliations], words_of(ordered, [fl.AFFILIATION])
        ),
        "abstract": one(article.abstract, fl.ABSTRACT),
        "keywords": locate_items(article.keywords, words_of(ordered, [fl.KEYWORDS])),
        "sections": sections,
        "references": locate_items(article.references, words_of(ordered, [fl.REFERENCE])),
    }


def build_view(data: bytes, numbers: Sequence[int], article, recorder: RecordingLabeller) -> dict:
    """The document the page draws: fields, JATS, legend, pages and the words of each field."""
    labeller = recorder.inner
    colors = colors_by_label(labeller)
    pages, ordered = read_page_words(data, numbers, recorder.pages, labeller, colors)
    present = {label for page in pages for label in page["labels"]}
    legend = [
        {"label": label, "color": "#{:02x}{:02x}{:02x}".format(*colors[label])}
        for label in colors
        if label in present
    ]
    return {
        "article": article.to_dict(),
        "jats": article.to_jats_bytes().decode("utf-8"),
        "legend": legend,
        "pages": pages,
        "boxes": field_boxes(article, ordered),
    }
