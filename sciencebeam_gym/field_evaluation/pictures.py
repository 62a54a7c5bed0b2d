"""A picture per document for a person to see what went wrong: the first page with the boxes of
the extracted fields (when the extraction keeps them), and beside it each field's publisher text,
extracted text and soft-matching verdict."""

from __future__ import annotations

import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from sciencebeam_gym.document.errors import SkipError
from sciencebeam_gym.document.pdf import DEFAULT_DPI
from sciencebeam_gym.field_evaluation.fields import FIELDS, LIST_FIELDS, ArticleFields
from sciencebeam_gym.field_evaluation.measures import SOFT
from sciencebeam_gym.field_evaluation.scoring import FieldScore
from sciencebeam_gym.storage import fs

# the first page as extraction renders it by default
DPI = DEFAULT_DPI
PANEL_WIDTH = 760
FONT_SIZE = 14
LINE_HEIGHT = 18
WRAP = 95  # characters per line in the panel
MAX_LINES = 3  # per text, so that every field fits beside the page
MATCHED, MISSED, GREY = (0, 130, 0), (200, 0, 0), (90, 90, 90)
BOX_COLOURS = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180))


def render_first_page(pdf_path: str | None) -> Image.Image:
    """The first page at DPI; a blank page when there is no PDF (an --extracted run without it)."""
    if not pdf_path:
        return Image.new("RGB", (850, 1100), "white")
    from sciencebeam_gym.document.pdf import open_pdf, render_page

    document = open_pdf(fs.read_bytes(pdf_path), pdf_path)
    try:
        return render_page(document[0], DPI)
    finally:
        document.close()


def field_boxes(article) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(label, box in PDF points from the top-left) of the first page's extracted regions.

    The extraction's article keeps boxes only for the painted regions of pages without a text
    layer (`regions`, pages from 1); text fields come without boxes, and an --extracted run has
    XML only, so most pictures show the page and the texts."""
    boxes = []
    for region in getattr(article, "regions", None) or ():
        if getattr(region, "page", 1) == 1:
            boxes.append((str(region.label), tuple(float(v) for v in region.box)))
    return boxes


def draw_boxes(page: Image.Image, boxes, font) -> None:
    draw = ImageDraw.Draw(page)
    scale = DPI / 72.0
    colours: dict[str, tuple[int, int, int]] = {}
    for label, (x0, top, x1, bottom) in boxes:
        colour = colours.setdefault(label, BOX_COLOURS[len(colours) % len(BOX_COLOURS)])
        rectangle = [x0 * scale, top * scale, x1 * scale, bottom * scale]
        draw.rectangle(rectangle, outline=colour, width=2)
        draw.text((rectangle[0], max(0, rectangle[1] - FONT_SIZE)), label, fill=colour, font=font)


def _shorten(text: str) -> list[str]:
    lines = textwrap.wrap(text, WRAP) or ["(none)"]
    if len(lines) > MAX_LINES:
        lines = lines[: MAX_LINES - 1] + [lines[MAX_LINES - 1][: WRAP - 3] + "..."]
    return lines


def _field_text(fields: ArticleFields, field: str) -> str:
    if field in LIST_FIELDS:
        items = fields.items(field)
        return f"[{len(items)}] " + " | ".join(items)
    return fields.text(field)


def panel_lines(gold: ArticleFields, extracted: ArticleFields, scores: list[FieldScore]):
    """(text, colour) lines of the side panel: per field its verdict and both texts."""
    soft = {score.field: score for score in scores if score.measure == SOFT.name}
    lines: list[tuple[str, tuple[int, int, int]]] = []
    for field in FIELDS:
        counts = soft[field].counts
        good = counts.matched == max(counts.expected, counts.actual)
        verdict = f"{field}: {counts.matched} matched of {counts.expected} expected, "
        verdict += f"{counts.actual} extracted (soft)"
        lines.append((verdict, MATCHED if good else MISSED))
        lines += [("  JATS: " + t, GREY) for t in _shorten(_field_text(gold, field))]
        lines += [("  extracted: " + t, GREY) for t in _shorten(_field_text(extracted, field))]
    return lines


def compose(page: Image.Image, lines, note: str, font) -> Image.Image:
    height = max(page.height, LINE_HEIGHT * (len(lines) + 3))
    picture = Image.new("RGB", (page.width + PANEL_WIDTH, height), "white")
    picture.paste(page, (0, 0))
    draw = ImageDraw.Draw(picture)
    x, y = page.width + 10, 10
    for text, colour in [*lines, ("", GREY), (note, GREY)]:
        draw.text((x, y), text, fill=colour, font=font)
        y += LINE_HEIGHT
    return picture


def write_picture(path, pdf_path, gold, extracted, scores, article=None) -> str:
    """Draw and write the document's PNG; SkipError when its PDF cannot be rendered."""
    font = ImageFont.load_default(size=FONT_SIZE)
    try:
        page = render_first_page(pdf_path)
    except SkipError:
        raise
    except Exception as error:  # noqa: BLE001 - a picture failure is reported, not fatal
        raise SkipError("PDF cannot be rendered", str(error)) from error
    boxes = field_boxes(article)
    draw_boxes(page, boxes, font)
    note = (
        f"{len(boxes)} painted regions drawn (a page without text layer)"
        if boxes
        else "no boxes: the extracted article keeps none for text fields"
    )
    picture = compose(page, panel_lines(gold, extracted, scores), note, font)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    fs.write_bytes(path, out.getvalue())
    return path
