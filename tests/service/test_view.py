"""The page's view of a PDF: each field's words found on the page (what hovering lights up),
on a PDF whose words' places are known, painted as a model would paint it."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from sciencebeam_gym.document.words import PageWord
from sciencebeam_gym.extract import extract_document
from sciencebeam_gym.extract.model import PaintedLabeller
from sciencebeam_gym.service.view import RecordingLabeller, build_view, locate_items
from tests.extract.pages import Text, labels_by_value, make_pdf, painted, paragraph, text_width

TITLE = Text(72, 80, 20, "Frogs Give Birth", "manuscript_title")
AUTHORS = Text(72, 110, 11, "Ann Lee, Bob Ray", "author")
REFERENCES = ["1. Lee A. Frogs. 2001.", "2. Ray B. Toads. 2002."]
PAGES = [
    [
        Text(72, 40, 9, "Frogs Give Birth", ""),  # the title's words elsewhere, unpainted
        TITLE,
        AUTHORS,
        *paragraph(72, 160, ["Abstract", "Frogs were seen in ponds."], "abstract"),
        Text(72, 220, 12, "Introduction", "section_title"),
        *paragraph(72, 240, ["Frogs are many."], "section_paragraph"),
        Text(72, 280, 12, "Methods", "section_title"),
        *paragraph(72, 300, ["We counted frogs."], "section_paragraph"),
    ],
    [*paragraph(72, 80, REFERENCES, "reference")],
]


def word(text: str, x: float) -> tuple[int, PageWord]:
    return 1, PageWord(text=text, box=(x, 0.0, x + 5, 10.0), line=0, runs=((text, False),))


def test_items_are_found_in_order_each_word_once():
    words = [
        word(t, i * 10) for i, t in enumerate(["Ann", "Lee1", ",", "Bob", "Ray*", "Ann", "Lee"])
    ]
    found = locate_items(["Ann Lee", "Bob Ray", "Ann Lee"], words)
    assert [[box[1] for box in boxes] for boxes in found] == [[0, 10], [30, 40], [50, 60]]
    assert locate_items(["Nobody Here"], words) == [[]]


def view_of(pages) -> dict:
    data = make_pdf(pages)
    recorder = RecordingLabeller(PaintedLabeller(painted(pages), labels_by_value()))
    article = extract_document(data, recorder, source="frogs.pdf")
    return build_view(data, list(range(1, len(pages) + 1)), article, recorder)


def within(boxes, item: Text, page: int = 1) -> bool:
    """Every box on the page and on the item's line (baseline y, from x to its end)."""
    right = item.x + text_width(item) + 1
    return bool(boxes) and all(
        b[0] == page and item.x - 1 <= b[1] and b[3] <= right and b[2] <= item.y <= b[4] + 2
        for b in boxes
    )


def test_each_field_lights_up_its_own_words():
    view = view_of(PAGES)
    boxes = view["boxes"]
    assert view["article"]["title"] == "Frogs Give Birth"
    assert within(boxes["title"], TITLE) and len(boxes["title"]) == 3
    assert [a["text"] for a in view["article"]["authors"]] == ["Ann Lee", "Bob Ray"]
    ann, bob = boxes["authors"]
    assert within(ann, AUTHORS) and within(bob, AUTHORS)
    assert max(b[3] for b in ann) < min(b[1] for b in bob)  # Ann's words left of Bob's
    assert len(boxes["abstract"]) == 5  # "Frogs were seen in ponds.", not the heading
    titles = [s["title"] for s in boxes["sections"]]
    headings = [Text(72, 220, 12, "Introduction"), Text(72, 280, 12, "Methods")]
    assert [within(t, h) for t, h in zip(titles, headings, strict=True)] == [True, True]
    paragraphs = [s["paragraphs"][0] for s in boxes["sections"]]
    assert [len(p) for p in paragraphs] == [3, 3]
    first, second = boxes["references"]
    assert all(b[0] == 2 for b in first + second)
    assert max(b[4] for b in first) <= min(b[2] for b in second)  # one line above the other


def test_the_page_shows_the_render_the_paint_and_its_legend():
    view = view_of(PAGES)
    page = view["pages"][0]
    paint = Image.open(io.BytesIO(base64.b64decode(page["paint"].split(",", 1)[1])))
    painted_map = painted(PAGES)[0]
    assert paint.size == painted_map.shape[::-1]
    alpha = np.asarray(paint)[..., 3]
    np.testing.assert_array_equal(alpha > 0, painted_map > 0)  # transparent where unpainted
    assert {"manuscript_title", "author", "abstract"} <= set(page["labels"])
    legend = {entry["label"] for entry in view["legend"]}
    assert legend == {label for p in view["pages"] for label in p["labels"]}
    assert view["jats"].startswith("<?xml")
