"""A picture of a few sample pages beside their coloured annotations, for the documentation.

python -m sciencebeam_gym.sample_data.preview --output doc/images/sample-pages.png
"""

from __future__ import annotations

import argparse
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sciencebeam_gym import cli
from sciencebeam_gym.color_map import ColorMap, default_color_map_path, load_color_map
from sciencebeam_gym.data_layout import TRAIN
from sciencebeam_gym.sample_data.corpus import make_document
from sciencebeam_gym.sample_data.fonts import font_key, font_path
from sciencebeam_gym.sample_data.render import render_label_image, render_page_image
from sciencebeam_gym.storage import fs

GAP = 12
BACKDROP = (225, 225, 225)


def page_and_annotation(index: int, seed: int, color_map: ColorMap, height: int):
    """A training page and its label image coloured with the map, both `height` pixels tall."""
    document = make_document(TRAIN, index, seed)
    keys = {c.label: c.key for c in color_map.classes}
    page = render_page_image(document.page, document.dpi)
    label = render_label_image(document.page, document.dpi, keys)
    coloured = Image.fromarray(color_map.label_image_to_rgb(np.asarray(label)))
    width = round(page.width * height / page.height)
    labels = {r.label for r in document.page.regions if r.label in keys}
    return (
        page.resize((width, height), Image.LANCZOS),
        coloured.resize((width, height), Image.NEAREST),
        labels,
    )


def legend(color_map: ColorMap, labels: set[str], width: int) -> Image.Image:
    font = ImageFont.truetype(font_path(font_key("dejavu-sans")), 15)
    entries = [c for c in color_map.classes if c.label in labels]
    columns = max(1, width // 230)
    rows = -(-len(entries) // columns)
    image = Image.new("RGB", (width, rows * 24 + GAP), BACKDROP)
    draw = ImageDraw.Draw(image)
    for index, entry in enumerate(entries):
        x = GAP + (index % columns) * 230
        y = GAP // 2 + (index // columns) * 24
        draw.rectangle((x, y + 3, x + 16, y + 19), fill=entry.color, outline=(0, 0, 0))
        draw.text((x + 22, y + 2), entry.label, fill=(0, 0, 0), font=font)
    return image


def contact_sheet(indexes: list[int], seed: int, color_map: ColorMap, height: int) -> Image.Image:
    tiles, labels = [], set()
    for index in indexes:
        page, annotation, page_labels = page_and_annotation(index, seed, color_map, height)
        tiles += [page, annotation]
        labels |= page_labels
    width = sum(t.width for t in tiles) + GAP * (len(tiles) + 1)
    key = legend(color_map, labels, width)
    sheet = Image.new("RGB", (width, height + 2 * GAP + key.height), BACKDROP)
    x = GAP
    for tile in tiles:
        sheet.paste(tile, (x, GAP))
        x += tile.width + GAP
    sheet.paste(key, (0, height + 2 * GAP))
    return sheet


def main(argv=None) -> int:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.sample_data.preview",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output", required=True, help="PNG to write (local or gs://)")
    parser.add_argument("--pages", default="2,3,7", help="training page numbers (default 2,3,7)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--height", type=int, default=760, help="tile height in pixels")
    parser.add_argument(
        "--colors", type=int, default=0, help="palette size for a small file (0: full colour)"
    )
    cli.add_color_map(parser)
    args = parser.parse_args(argv)
    try:
        indexes = [int(p) for p in args.pages.split(",")]
    except ValueError:
        parser.error(f"--pages: expected numbers separated by commas, got {args.pages!r}")
    color_map = load_color_map(args.color_map or default_color_map_path())
    sheet = contact_sheet(indexes, args.seed, color_map, args.height)
    if args.colors:
        sheet = sheet.quantize(args.colors)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=True)
    fs.write_bytes(args.output, buffer.getvalue())
    print(f"wrote {args.output} ({sheet.width}x{sheet.height})")
    return cli.EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
