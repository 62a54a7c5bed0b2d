"""The colour map parser: the original file as is, malformed files, and the image mappings."""

import json
from pathlib import Path

import numpy as np
import pytest

from sciencebeam_gym.color_map import (
    BACKGROUND_LABEL,
    UNKNOWN_COLOR,
    UNKNOWN_INDEX,
    UNKNOWN_KEY,
    ColorMap,
    ColorMapError,
    color_map_of_config,
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
        ("[color_map]\njust words\n", "key = value"),
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


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        # a black class would turn every background pixel into that class
        ("[color_map]\n1=(255,0,0)\n2=(0,0,0)\n", 3, "background's colour"),
        (
            "[color_map]\n1=(255,0,0)\n2=(0,255,0)\n[color_labels]\n1=title\n2=title\n",
            6,
            "label 'title' is used by class 1",
        ),
        ("[color_map]\n1=(255,0,0)\n2=(9,9,9)\n3=(255,0,0)\n", 4, "used by class 1"),
    ],
)
def test_black_or_shared_classes_are_refused_naming_the_line(text, line, message):
    with pytest.raises(ColorMapError, match=message) as error:
        parse_color_map(text, source="bad.conf")
    assert str(error.value).startswith(f"bad.conf:{line}:")


def test_palette_and_labels_put_the_background_first():
    color_map = parse_color_map("[color_map]\n2=(0,0,255)\n1=(255,0,0)\n[color_labels]\n1=a\n2=b")
    assert color_map.palette.tolist() == [[0, 0, 0], [255, 0, 0], [0, 0, 255]]
    assert color_map.palette.dtype == np.uint8
    assert color_map.labels_with_background == [BACKGROUND_LABEL, "a", "b"]


def test_config_round_trip_keeps_keys_labels_and_colours():
    color_map = load_color_map(default_color_map_path())
    saved = json.loads(json.dumps({"classes": color_map.to_config()}))
    restored = color_map_of_config(saved)
    assert restored.classes == color_map.classes
    # a config without classes falls back to its colour map file
    assert color_map_of_config({"color_map": default_color_map_path()}).classes == color_map.classes
    with pytest.raises(ColorMapError, match="config.json"):
        ColorMap.from_config([{"label": "x"}])


def test_unmapped_pixels_are_counted():
    color_map = parse_color_map("[color_map]\n1=(255,0,0)\n2=(0,0,255)\n")
    image = np.array([[[1, 1, 1], [2, 2, 2], [7, 7, 7], [0, 0, 0], [10, 20, 30]]], dtype=np.uint8)
    mapped = color_map.map_grey_to_colors(image)
    assert color_map.count_unmapped(mapped) == 2  # grey 7 and the foreign colour
    assert color_map.rgb_to_class_index(mapped).tolist() == [[1, 2, 0, 0, 0]]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[color_map]\n1=(255,0,0)\n255=(0,255,0)\n", 3, "key 255 marks unknown"),
        ("[color_map]\n1=(255,0,0)\n2=(255,255,255)\n", 3, "colour of unknown"),
    ],
)
def test_the_unknown_key_and_colour_are_refused_naming_the_line(text, line, message):
    with pytest.raises(ColorMapError, match=message) as error:
        parse_color_map(text, source="bad.conf")
    assert str(error.value).startswith(f"bad.conf:{line}:")


def test_unknown_grey_becomes_white_is_not_unmapped_and_has_its_own_index():
    color_map = parse_color_map("[color_map]\n1=(255,0,0)\n2=(0,0,255)\n")
    label = np.array([[0, 1, UNKNOWN_KEY, 7]], dtype=np.uint8)
    rgb = color_map.label_image_to_rgb(label)
    assert tuple(rgb[0, 2]) == UNKNOWN_COLOR
    mapped = color_map.map_grey_to_colors(np.repeat(label[..., None], 3, axis=-1))
    assert (mapped == rgb).all()
    assert color_map.count_unmapped(mapped) == 1  # grey 7 only
    assert color_map.count_unknown(mapped) == 1
    assert color_map.rgb_to_class_index(mapped).tolist() == [[0, 1, 0, 0]]
    index = color_map.rgb_to_class_index(mapped, unknown=UNKNOWN_INDEX)
    assert index.tolist() == [[0, 1, UNKNOWN_INDEX, 0]]


def test_every_class_label_the_code_names_is_a_label_of_the_bundled_colour_map():
    from sciencebeam_gym import class_labels

    bundled = load_color_map(default_color_map_path()).labels
    assert [label for label in class_labels.ALL if label not in bundled] == []
    assert len(set(class_labels.ALL)) == len(class_labels.ALL)
