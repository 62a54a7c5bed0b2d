"""The colour map: `color_map.conf` <-> class ids, labels and colours.

The file is the original toolkit's INI format::

    [color_map]
    # abstract
    1=(255,0,0)
    [color_labels]
    1=abstract

A key k in `[color_map]` is the grey value (k,k,k) that marks class k in a label image; the
value is the colour that class is painted in. Classes are ordered by key everywhere (channels,
class indices), as in the original. Class index 0 is the background (black, grey value 0), and
class i of the map has index i. Grey UNKNOWN_KEY (255) marks text no field claimed; it is white
(UNKNOWN_COLOR) once coloured and UNKNOWN_INDEX (-1) as a class index, so no class may use that
key or colour. `ColorMap` is the one source for all of it: the classes, the
palette, the background, the annotation file names, and the classes saved in a model's
`config.json`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sciencebeam_gym import ini

BACKGROUND_LABEL = "background"
BACKGROUND_COLOR = (0, 0, 0)
# Unknown: page text that no field of the XML claims (real pages). The loss and the metrics
# ignore such pixels. In label images ("L") it is grey 255, in coloured annotations and TFRecords
# white: the palette uses no white, black or grey, so the original's tools read it as a colour of
# no class (their `--use_unknown_class`). A model never predicts it.
UNKNOWN_LABEL = "unknown"
UNKNOWN_KEY = 255
UNKNOWN_COLOR = (255, 255, 255)
# The class index of unknown pixels wherever labels are class indices (loss, metrics).
UNKNOWN_INDEX = -1
COLOR_MAP_SECTION = "color_map"
COLOR_LABELS_SECTION = "color_labels"
# The file names of annotations (label images) beside their pages: `x-page1.annot.png`,
# `x-page1-target.png`; preprocessing pairs by it and predict leaves such files out.
ANNOTATION_NAME_PATTERN = r"\btarget\b|\bannot"
# Where config.json keeps the classes a model was trained with.
CONFIG_CLASSES_KEY = "classes"

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
    def palette(self) -> np.ndarray:
        """(1 + num_classes, 3) uint8 colour of each class index: background black, then classes."""
        return palette(self.color_array)

    @property
    def labels_with_background(self) -> list[str]:
        """The label of each class index, background first."""
        return [BACKGROUND_LABEL, *self.labels]

    @cached_property
    def grey_to_color_table(self) -> np.ndarray:
        """A (256, 3) lookup table: grey k -> colour of class k, grey UNKNOWN_KEY ->
        UNKNOWN_COLOR; other greys stay grey."""
        table = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
        table[UNKNOWN_KEY] = UNKNOWN_COLOR
        for c in self.classes:
            table[c.key] = c.color
        return table

    def class_by_label(self, label: str) -> ColorClass:
        for c in self.classes:
            if c.label == label:
                return c
        raise KeyError(f"no class labelled {label!r} in {self.source} (labels: {self.labels})")

    def label_image_to_rgb(self, label_image: np.ndarray) -> np.ndarray:
        """Colour a label image (HxW grey keys) with the class colours; 0 stays black, unknown
        becomes white."""
        return self.grey_to_color_table[np.asarray(label_image, dtype=np.uint8)]

    def map_grey_to_colors(self, rgb_image: np.ndarray) -> np.ndarray:
        """Colour-map an RGB annotation: pixels (k,k,k) of a class key get its colour.

        Pixels that are not pure grey class keys (already coloured, unknown) pass unchanged.
        """
        rgb = np.asarray(rgb_image, dtype=np.uint8)
        is_grey = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
        mapped = self.grey_to_color_table[rgb[..., 0]]
        return np.where(is_grey[..., None], mapped, rgb)

    def count_unmapped(self, rgb_image: np.ndarray) -> int:
        """Pixels of a coloured annotation that are neither background, unknown (white) nor a
        class colour.

        They would be read as background: grey values without a class in the map, or colours
        of another colour map.
        """
        return int(np.count_nonzero(self.unmapped_mask(rgb_image)))

    def unmapped_mask(self, rgb_image: np.ndarray) -> np.ndarray:
        """True where a coloured annotation's pixel is no class, background or unknown colour."""
        no_class = -2  # neither a class index nor UNKNOWN_INDEX
        index = self.rgb_to_class_index(rgb_image, unmapped=no_class, unknown=UNKNOWN_INDEX)
        return index == no_class

    def count_unknown(self, rgb_image: np.ndarray) -> int:
        """Pixels of a coloured annotation in UNKNOWN_COLOR (text no field claimed)."""
        return int(np.count_nonzero(_pack(rgb_image) == _pack(np.array(UNKNOWN_COLOR))))

    def rgb_to_class_index(
        self, rgb_image: np.ndarray, unmapped: int = 0, unknown: int | None = None
    ) -> np.ndarray:
        """Class index per pixel of a coloured annotation: 0 background, i + 1 for class i.

        Pixels whose colour is no class colour (nor black) get `unmapped` (background by
        default); with `unknown` given (e.g. UNKNOWN_INDEX), unknown (white) pixels get that
        instead. int16, so that UNKNOWN_INDEX (-1) fits.
        """
        packed = _pack(rgb_image)
        result = np.full(packed.shape, unmapped, dtype=np.int16)
        if unknown is not None:
            result[packed == _pack(np.array(UNKNOWN_COLOR))] = unknown
        for index, color in enumerate(self.palette):
            result[packed == _pack(color)] = index
        return result

    def to_config(self) -> list[dict]:
        """The classes as saved in config.json (`CONFIG_CLASSES_KEY`), in key order."""
        return [{"key": c.key, "label": c.label, "color": list(c.color)} for c in self.classes]

    @classmethod
    def from_config(cls, entries: list[dict], source: str = "config.json") -> ColorMap:
        """The colour map saved by `to_config` (a missing key is the entry's position)."""
        try:
            classes = tuple(
                ColorClass(
                    key=int(entry.get("key", index)),
                    label=str(entry["label"]),
                    color=tuple(int(v) for v in entry["color"]),  # type: ignore[arg-type]
                )
                for index, entry in enumerate(entries, start=1)
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ColorMapError(f"{source}: unreadable class entry ({error!r})") from error
        return cls(classes=classes, source=source)


def _pack(rgb: np.ndarray) -> np.ndarray:
    """(…, 3) colours -> (…) int32 r<<16 | g<<8 | b, for exact colour comparison."""
    rgb = np.asarray(rgb, dtype=np.uint8).astype(np.int32)
    return rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]


def palette(colors: np.ndarray) -> np.ndarray:
    """(1 + C, 3) uint8: the background colour, then the (C, 3) class colours."""
    colors = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
    return np.concatenate([np.array([BACKGROUND_COLOR], dtype=np.uint8), colors])


def color_map_of_config(config: dict) -> ColorMap:
    """The classes a model was trained with: config.json's classes, else its colour map file."""
    if config.get(CONFIG_CLASSES_KEY):
        return ColorMap.from_config(config[CONFIG_CLASSES_KEY])
    return load_color_map(config.get("color_map") or default_color_map_path())


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


def _read_sections(text: str, source: str) -> dict[str, dict[int, tuple[str, str]]]:
    """The two sections as {section: {key: (value, "file:line")}}; other sections are ignored."""
    sections: dict[str, dict[int, tuple[str, str]]] = {
        COLOR_MAP_SECTION: {},
        COLOR_LABELS_SECTION: {},
    }
    try:
        for entry in ini.iter_entries(text, source):
            if entry.section not in sections:
                continue
            key = _parse_key(entry.key, entry.where)
            if key in sections[entry.section]:
                raise ColorMapError(
                    f"{entry.where}: key {entry.key} appears twice in [{entry.section}]"
                )
            sections[entry.section][key] = (entry.value, entry.where)
    except ini.IniError as error:
        raise ColorMapError(str(error)) from error
    return sections


def _check_class(
    color_class: ColorClass, color_where: str, label_where: str, seen: dict[object, int]
) -> None:
    """Refuse a class keyed or coloured as the background or the unknown class, or sharing a
    colour or label with another."""
    if color_class.key == UNKNOWN_KEY:
        raise ColorMapError(
            f"{color_where}: key {UNKNOWN_KEY} marks {UNKNOWN_LABEL} text (no field of the XML) "
            "in label images; give the class another key"
        )
    if color_class.color == UNKNOWN_COLOR:
        raise ColorMapError(
            f"{color_where}: class {color_class.key} is coloured {UNKNOWN_COLOR}, the colour of "
            f"{UNKNOWN_LABEL} text in annotations; pick another colour"
        )
    if color_class.color == BACKGROUND_COLOR:
        raise ColorMapError(
            f"{color_where}: class {color_class.key} is coloured {BACKGROUND_COLOR}, the background's "
            "colour; every background pixel would become that class: pick another colour"
        )
    for what, value, where in (
        ("colour", color_class.color, color_where),
        ("label", color_class.label, label_where),
    ):
        if (what, value) in seen:
            raise ColorMapError(
                f"{where}: {what} {value!r} is used by class {seen[what, value]} too; "
                "each class needs its own"
            )
        seen[what, value] = color_class.key


def parse_color_map(text: str, source: str = "<color map>") -> ColorMap:
    """Parse colour-map text in the original INI format; ColorMapError naming the line."""
    sections = _read_sections(text, source)
    if not sections[COLOR_MAP_SECTION]:
        raise ColorMapError(f"{source}: no [{COLOR_MAP_SECTION}] section with classes")
    labels = sections[COLOR_LABELS_SECTION]
    classes = []
    seen: dict[object, int] = {}
    for key in sorted(sections[COLOR_MAP_SECTION]):
        value, where = sections[COLOR_MAP_SECTION][key]
        label, label_where = labels.get(key, ("", where))
        color_class = ColorClass(key, label or f"class_{key}", _parse_color(value, where))
        _check_class(color_class, where, label_where, seen)
        classes.append(color_class)
    return ColorMap(classes=tuple(classes), source=source)


def load_color_map(path: str) -> ColorMap:
    """Read and parse a colour map from a local or gs:// path."""
    data = ini.read_conf_bytes(
        path, "colour map", "set COLOR_MAP_FILENAME / --color_map", ColorMapError
    )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ColorMapError(f"{path}: not a UTF-8 text file ({error})") from error
    return parse_color_map(text, source=path)


def default_color_map_path() -> str:
    """The colour map shipped with the toolkit (repository root, or the installed package)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (
        os.path.join(os.path.dirname(here), "color_map.conf"),
        os.path.join(here, "color_map.conf"),
    ):
        if os.path.exists(candidate):
            return candidate
    raise ColorMapError("color_map.conf not found beside the package; pass --color_map")
