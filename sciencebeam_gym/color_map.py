"""The colour map: `color_map.conf` <-> class ids, labels and colours.

The file is the original toolkit's INI format::

    [color_map]
    # abstract
    1=(255,0,0)
    [color_labels]
    1=abstract

A key k in `[color_map]` is the grey value (k,k,k) that marks class k in a label image; the
value is the colour that class is painted in. Classes are ordered by key everywhere (channels,
class indices), as in the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

BACKGROUND_LABEL = "background"
COLOR_MAP_SECTION = "color_map"
COLOR_LABELS_SECTION = "color_labels"

_SECTION_RE = re.compile(r"^\[\s*([^\]]+?)\s*\]$")
_COLOR_RE = re.compile(r"^\(?\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)?$")


class ColorMapError(ValueError):
    """A colour map that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class ColorClass:
    """One class of the colour map: its key (grey value in label images), label and colour."""

    key: int
    label: str
    color: tuple[int, int, int]


@dataclass(frozen=True)
class ColorMap:
    """The classes of a colour map, sorted by key."""

    classes: tuple[ColorClass, ...]
    source: str = "<color map>"

    @property
    def keys(self) -> list[int]:
        return [c.key for c in self.classes]

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.classes]

    @property
    def colors(self) -> list[tuple[int, int, int]]:
        return [c.color for c in self.classes]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @cached_property
    def color_array(self) -> np.ndarray:
        """Colours as a (num_classes, 3) uint8 array, in key order."""
        return np.array(self.colors, dtype=np.uint8).reshape(-1, 3)

    @cached_property
    def grey_to_color_table(self) -> np.ndarray:
        """A (256, 3) lookup table: grey k -> colour of class k; other greys stay grey."""
        table = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
        for c in self.classes:
            table[c.key] = c.color
        return table

    def class_by_label(self, label: str) -> ColorClass:
        for c in self.classes:
            if c.label == label:
                return c
        raise KeyError(f"no class labelled {label!r} in {self.source} (labels: {self.labels})")

    def label_image_to_rgb(self, label_image: np.ndarray) -> np.ndarray:
        """Colour a label image (HxW grey keys) with the class colours; 0 stays black."""
        return self.grey_to_color_table[np.asarray(label_image, dtype=np.uint8)]

    def map_grey_to_colors(self, rgb_image: np.ndarray) -> np.ndarray:
        """Colour-map an RGB annotation: pixels (k,k,k) of a class key get its colour.

        Pixels that are not pure grey class keys (already coloured, unknown) pass unchanged.
        """
        rgb = np.asarray(rgb_image, dtype=np.uint8)
        is_grey = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
        mapped = self.grey_to_color_table[rgb[..., 0]]
        return np.where(is_grey[..., None], mapped, rgb)

    def rgb_to_class_index(self, rgb_image: np.ndarray) -> np.ndarray:
        """Class index per pixel of a coloured annotation: 0 background, i + 1 for class i.

        Pixels whose colour is no class colour count as background.
        """
        rgb = np.asarray(rgb_image, dtype=np.uint8)
        packed = (
            rgb[..., 0].astype(np.int32) << 16 | rgb[..., 1].astype(np.int32) << 8 | rgb[..., 2]
        )
        result = np.zeros(packed.shape, dtype=np.uint8)
        for index, (r, g, b) in enumerate(self.colors, start=1):
            result[packed == (r << 16 | g << 8 | b)] = index
        return result


def _parse_color(value: str, where: str) -> tuple[int, int, int]:
    match = _COLOR_RE.match(value.strip())
    if not match:
        raise ColorMapError(f"{where}: expected a colour like (255,0,0), got {value!r}")
    color = tuple(int(v) for v in match.groups())
    if any(v > 255 for v in color):
        raise ColorMapError(f"{where}: colour values must be 0..255, got {value!r}")
    return color  # type: ignore[return-value]


def _parse_key(key: str, where: str) -> int:
    if not key.isdigit() or not 1 <= int(key) <= 255:
        raise ColorMapError(f"{where}: the key must be a grey value 1..255, got {key!r}")
    return int(key)


def _read_sections(text: str, source: str) -> dict[str, dict[int, tuple[str, int]]]:
    """INI sections as {section: {key: (value, line_number)}}, with line numbers for errors."""
    sections: dict[str, dict[int, tuple[str, int]]] = {}
    current: str | None = None
    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{source}:{line_number}"
        if not line or line.startswith(("#", ";")):
            continue
        section = _SECTION_RE.match(line)
        if section:
            current = section.group(1).strip().lower()
            sections.setdefault(current, {})
            continue
        if "=" not in line:
            raise ColorMapError(f"{where}: expected 'key=value' or '[section]', got {raw!r}")
        if current is None:
            raise ColorMapError(f"{where}: '{line}' comes before any [section]")
        key, value = (part.strip() for part in line.split("=", 1))
        if current in (COLOR_MAP_SECTION, COLOR_LABELS_SECTION):
            parsed_key = _parse_key(key, where)
            if parsed_key in sections[current]:
                raise ColorMapError(f"{where}: key {key} appears twice in [{current}]")
            sections[current][parsed_key] = (value, line_number)
    return sections


def parse_color_map(text: str, source: str = "<color map>") -> ColorMap:
    """Parse colour-map text in the original INI format."""
    sections = _read_sections(text, source)
    if COLOR_MAP_SECTION not in sections or not sections[COLOR_MAP_SECTION]:
        raise ColorMapError(f"{source}: no [{COLOR_MAP_SECTION}] section with classes")
    labels = sections.get(COLOR_LABELS_SECTION, {})
    classes = []
    seen_colors: dict[tuple[int, int, int], int] = {}
    for key in sorted(sections[COLOR_MAP_SECTION]):
        value, line_number = sections[COLOR_MAP_SECTION][key]
        color = _parse_color(value, f"{source}:{line_number}")
        if color in seen_colors:
            raise ColorMapError(
                f"{source}:{line_number}: colour {color} is used by class {seen_colors[color]} too"
            )
        seen_colors[color] = key
        label = labels.get(key, (f"class_{key}", 0))[0] or f"class_{key}"
        classes.append(ColorClass(key=key, label=label, color=color))
    return ColorMap(classes=tuple(classes), source=source)


def load_color_map(path: str) -> ColorMap:
    """Read and parse a colour map from a local or gs:// path."""
    from sciencebeam_gym import fs

    try:
        data = fs.read_bytes(path)
    except Exception as error:  # noqa: BLE001 - any read failure gets the same advice
        raise ColorMapError(
            f"cannot read colour map {path}: {error} (set COLOR_MAP_FILENAME / --color_map)"
        ) from error
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ColorMapError(f"{path}: not a UTF-8 text file ({error})") from error
    return parse_color_map(text, source=path)


def default_color_map_path() -> str:
    """The colour map shipped with the toolkit (repository root, or the installed package)."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (
        os.path.join(os.path.dirname(here), "color_map.conf"),
        os.path.join(here, "color_map.conf"),
    ):
        if os.path.exists(candidate):
            return candidate
    raise ColorMapError("color_map.conf not found beside the package; pass --color_map")
