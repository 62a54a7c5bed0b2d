"""The colour map parser: the original file as is, malformed files, and the image mappings."""

from pathlib import Path

import numpy as np
import pytest

from sciencebeam_gym.color_map import (
    ColorMapError,
    default_color_map_path,
    load_color_map,
    parse_color_map,
)

ROOT = Path(__file__).resolve().parents[1]
ORIGINAL_COLOR_MAP = ROOT.parent / "shared" / "reference" / "color_map.conf"


def _original_text() -> str:
    path = ORIGINAL_COLOR_MAP if ORIGINAL_COLOR_MAP.exists() else ROOT / "color_map.conf"
    return path.read_text()


def _expected_entries(text: str) -> dict[int, tuple[str, tuple[int, int, int]]]:
    """Keys, labels and colours read from the file's text line by line, independently."""
    section, colors, labels = None, {}, {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif line and not line.startswith("#"):
            key, value = line.split("=", 1)
            if section == "color_map":
                colors[int(key)] = tuple(int(v) for v in value.strip("()").split(","))
            else:
                labels[int(key)] = value
    return {k: (labels[k], colors[k]) for k in colors}


def test_original_color_map_parses_unchanged():
    text = _original_text()
    color_map = parse_color_map(text, source="color_map.conf")
    expected = _expected_entries(text)
    assert color_map.num_classes == len(expected) == 24
    assert color_map.keys == sorted(expected)
    for c in color_map.classes:
        assert (c.label, c.color) == expected[c.key]


def test_shipped_color_map_is_the_original():
    if not ORIGINAL_COLOR_MAP.exists():
        pytest.skip("../shared/reference/color_map.conf is not beside the repository")
    assert (ROOT / "color_map.conf").read_text() == ORIGINAL_COLOR_MAP.read_text()
    assert load_color_map(default_color_map_path()).labels[0] == "abstract"


def test_malformed_line_names_file_and_line():
    text = "[color_map]\n1=(255,0,0)\n2=(12,oops)\n"
    with pytest.raises(ColorMapError, match=r"my\.conf:3"):
        parse_color_map(text, source="my.conf")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[color_map]\n1=(255,0,0)\n1=(0,255,0)\n", "appears twice"),
        ("[color_map]\n1=(255,0,0)\n2=(255,0,0)\n", "used by class 1"),
        ("[color_map]\nabc=(255,0,0)\n", "grey value"),
        ("[color_map]\n1=(256,0,0)\n", "0..255"),
        ("1=(255,0,0)\n", "before any"),
        ("[color_labels]\n1=abstract\n", "no \\[color_map\\]"),
        ("[color_map]\njust words\n", "key=value"),
    ],
)
def test_bad_color_maps_are_refused_with_reason(text, message):
    with pytest.raises(ColorMapError, match=message):
        parse_color_map(text, source="bad.conf")


def test_unreadable_file_says_which(tmp_path):
    missing = tmp_path / "nowhere.conf"
    with pytest.raises(ColorMapError, match="nowhere.conf"):
        load_color_map(str(missing))
    binary = tmp_path / "binary.conf"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ColorMapError, match="UTF-8"):
        load_color_map(str(binary))


def test_label_without_name_gets_a_generated_label():
    color_map = parse_color_map("[color_map]\n7=(1,2,3)\n")
    assert color_map.labels == ["class_7"]


def test_image_mappings_round_trip():
    color_map = parse_color_map(_original_text())
    keys = np.array(color_map.keys, dtype=np.uint8)
    label = np.zeros((3, 25), dtype=np.uint8)
    label[1, 1:] = keys
    rgb = color_map.label_image_to_rgb(label)
    assert rgb.shape == (3, 25, 3)
    assert (rgb[0] == 0).all()
    for i, c in enumerate(color_map.classes, start=1):
        assert tuple(rgb[1, i]) == c.color
    index = color_map.rgb_to_class_index(rgb)
    assert index[1, 1:].tolist() == list(range(1, 25))
    assert (index[0] == 0).all()


def test_grey_mapping_leaves_other_colours_unchanged():
    color_map = parse_color_map("[color_map]\n1=(255,0,0)\n2=(0,0,255)\n")
    image = np.array([[[1, 1, 1], [2, 2, 2], [3, 3, 3], [10, 20, 30], [0, 0, 0]]], dtype=np.uint8)
    mapped = color_map.map_grey_to_colors(image)
    assert mapped[0].tolist() == [[255, 0, 0], [0, 0, 255], [3, 3, 3], [10, 20, 30], [0, 0, 0]]
