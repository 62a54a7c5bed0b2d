"""A contact sheet: many page overlays in one picture, with the colour legend, for a visual check.

    python -m sciencebeam_gym.generate.contact_sheet \\
        --overlays .models/pix2pix/v4/data/generate-report/overlays --output sheet.png
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sciencebeam_gym import cli
from sciencebeam_gym.color_map import (
    UNKNOWN_LABEL,
    ColorMap,
    ColorMapError,
    default_color_map_path,
    load_color_map,
)
from sciencebeam_gym.generate.paint import UNKNOWN_OVERLAY_COLOR, hatch_mask
from sciencebeam_gym.storage import fs

THUMB_WIDTH = 360
COLUMNS = 5
CAPTION_HEIGHT = 16
LEGEND_ROW_HEIGHT = 16


def _font() -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=12)
    except TypeError:  # older Pillow without sizes
        return ImageFont.load_default()


def contact_sheet(
    named_images: list[tuple[str, Image.Image]],
    color_map: ColorMap | None = None,
    columns: int = COLUMNS,
    thumb_width: int = THUMB_WIDTH,
) -> Image.Image:
    """Thumbnails in a grid with their names below, and the class legend (then unknown text,
    hatched grey as in the overlays) at the bottom."""
    font = _font()
    thumbs = []
    for name, image in named_images:
        height = round(image.height * thumb_width / image.width)
        thumbs.append((name, image.convert("RGB").resize((thumb_width, height), Image.LANCZOS)))
    columns = max(1, min(columns, len(thumbs) or 1))
    rows = math.ceil(len(thumbs) / columns)
    cell_height = max((t.height for _, t in thumbs), default=0) + CAPTION_HEIGHT
    legend_columns = 6
    legend_rows = math.ceil((len(color_map.classes) + 1) / legend_columns) if color_map else 0
    width = columns * (thumb_width + 8) + 8
    height = rows * (cell_height + 8) + 8 + legend_rows * LEGEND_ROW_HEIGHT + 8
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (name, thumb) in enumerate(thumbs):
        x = 8 + (index % columns) * (thumb_width + 8)
        y = 8 + (index // columns) * (cell_height + 8)
        sheet.paste(thumb, (x, y))
        draw.rectangle((x, y, x + thumb.width - 1, y + thumb.height - 1), outline=(160, 160, 160))
        draw.text((x, y + thumb.height + 2), name, fill="black", font=font)
    if color_map:
        top = 8 + rows * (cell_height + 8)
        column_width = width // legend_columns
        for index, item in enumerate(color_map.classes):
            x = 8 + (index % legend_columns) * column_width
            y = top + (index // legend_columns) * LEGEND_ROW_HEIGHT
            draw.rectangle((x, y + 2, x + 12, y + 12), fill=item.color, outline="black")
            draw.text((x + 16, y), f"{item.key} {item.label}", fill="black", font=font)
        index = len(color_map.classes)
        x = 8 + (index % legend_columns) * column_width
        y = top + (index // legend_columns) * LEGEND_ROW_HEIGHT
        sheet.paste(_unknown_swatch(), (x, y + 2))
        draw.rectangle((x, y + 2, x + 12, y + 12), outline="black")
        draw.text((x + 16, y), f"{UNKNOWN_LABEL} (no field)", fill="black", font=font)
    return sheet


def _unknown_swatch(size: int = 13) -> Image.Image:
    """A legend square hatched like unknown text in the overlays."""
    stripes = hatch_mask((size, size))[..., None]
    pixels = np.where(stripes, np.array(UNKNOWN_OVERLAY_COLOR, np.uint8), np.uint8(255))
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def write_contact_sheet(overlay_folder: str, output: str, color_map: ColorMap | None) -> int:
    """Contact sheet of every PNG in a folder (sorted by name); returns how many pages."""
    paths = fs.glob(fs.join(fs.escape_glob(overlay_folder), "*.png"))
    images = []
    for path in paths:
        image = Image.open(io.BytesIO(fs.read_bytes(path)))
        images.append((fs.basename(path).replace(".overlay.png", ""), image))
    sheet = contact_sheet(images, color_map)
    buffer = io.BytesIO()
    # a 256-colour palette keeps the picture small enough to keep in a repository
    sheet.quantize(colors=256).save(buffer, format="PNG", optimize=True)
    fs.write_bytes(output, buffer.getvalue())
    return len(images)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.generate.contact_sheet",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--overlays", required=True, help="folder of overlay PNGs")
    parser.add_argument("--output", required=True, help="the contact sheet PNG to write")
    cli.add_color_map(parser, help="colour map for the legend (default: color_map.conf)")
    args = parser.parse_args(argv)
    try:
        color_map = load_color_map(args.color_map or default_color_map_path())
    except ColorMapError as error:
        return cli.report_error(error, cli.EXIT_USAGE)
    count = write_contact_sheet(args.overlays, args.output, color_map)
    if not count:
        print(f"error: no PNG files in {args.overlays} (--overlays)", file=sys.stderr)
        return cli.EXIT_FAILED
    print(f"contact sheet of {count} pages: {args.output}")
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
