import json

import numpy as np
import pytest

from sciencebeam_gym.color_map import UNKNOWN_COLOR, UNKNOWN_INDEX, load_color_map, parse_color_map
from sciencebeam_gym.trainer import class_weights
from sciencebeam_gym.trainer.class_weights import ClassWeightsError


def test_median_frequency_by_hand():
    # two 10-pixel images: image 1 has classes 0 (6 px) and 1 (4 px); image 2: 0 (8), 2 (2)
    images = [np.array([0] * 6 + [1] * 4), np.array([0] * 8 + [2] * 2)]
    pixel_counts, image_pixels, image_counts = class_weights.count_pixels(images, 4)
    np.testing.assert_array_equal(pixel_counts, [14, 4, 2, 0])
    np.testing.assert_array_equal(image_pixels, [20, 10, 10, 0])
    np.testing.assert_array_equal(image_counts, [2, 1, 1, 0])
    weights = class_weights.median_frequency_weights(pixel_counts, image_pixels)
    # frequencies 0.7, 0.4, 0.2 -> median 0.4
    np.testing.assert_allclose(weights, [0.4 / 0.7, 1.0, 2.0, 1.0])
    capped = class_weights.median_frequency_weights(pixel_counts, image_pixels, max_weight=1.5)
    np.testing.assert_allclose(capped, [0.4 / 0.7, 1.0, 1.5, 1.0])


def test_unknown_pixels_count_for_no_class_nor_their_image():
    images = [np.array([0] * 6 + [1] * 4), np.array([0] * 8 + [2] * 2)]
    with_unknown = [np.concatenate([image, [UNKNOWN_INDEX] * 5]) for image in images]
    expected = class_weights.count_pixels(images, 4)
    for got, want in zip(class_weights.count_pixels(with_unknown, 4), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_records_annotations_give_unknown_its_index():
    color_map = parse_color_map("[color_map]\n1=(255,0,0)\n")
    annotation = np.array([[[0, 0, 0], [255, 0, 0], UNKNOWN_COLOR]], dtype=np.uint8)
    index = color_map.rgb_to_class_index(annotation, unknown=UNKNOWN_INDEX)
    assert class_weights.count_pixels([index], 2)[0].tolist() == [1, 1]


def test_cli_writes_weights_the_trainer_reads(tiny_data, tmp_path):
    output = tmp_path / "weights.json"
    status = class_weights.main(
        [
            "--data_paths",
            tiny_data["train"],
            "--color_map",
            tiny_data["color_map"],
            "--output_path",
            str(output),
        ]
    )
    assert status == 0
    document = json.loads(output.read_text())
    assert document["labels"] == ["background", "title", "author", "body"]
    assert document["image_counts"] == [12, 12, 12, 12]
    assert sum(document["pixel_counts"]) == 12 * 32 * 32
    labels = load_color_map(tiny_data["color_map"]).labels
    weights = class_weights.load_class_weights(str(output), labels)
    assert weights.shape == (4,)
    # the background is the most frequent class, so it gets the smallest weight
    assert weights[0] == weights.min() and weights[0] < 1.0
    with pytest.raises(ClassWeightsError, match="do not match the colour map"):
        class_weights.load_class_weights(str(output), ["title", "author"])


def test_cli_empty_glob_fails_clearly(tmp_path, capsys):
    status = class_weights.main(
        ["--data_paths", str(tmp_path / "none/*"), "--output_path", str(tmp_path / "w.json")]
    )
    assert status == 2
    assert "no training files match" in capsys.readouterr().err
