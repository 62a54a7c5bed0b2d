import numpy as np
import pytest

from sciencebeam_gym.color_map import UNKNOWN_INDEX
from sciencebeam_gym.trainer import metrics


def test_confusion_matrix_counts_pairs():
    true = np.array([[0, 1, 1], [2, 2, 0]])
    predicted = np.array([[0, 1, 2], [2, 0, 0]])
    matrix = metrics.confusion_matrix(true, predicted, 3)
    expected = np.array([[2, 0, 0], [0, 1, 1], [1, 0, 1]])
    np.testing.assert_array_equal(matrix, expected)


def test_unknown_pixels_are_left_out_of_the_matrix_and_the_metrics():
    true = np.array([[0, 1, UNKNOWN_INDEX], [UNKNOWN_INDEX, 2, 2]])
    predicted = np.array([[0, 1, 2], [1, 2, 2]])
    matrix = metrics.confusion_matrix(true, predicted, 3)
    np.testing.assert_array_equal(matrix, np.diag([1, 1, 2]))
    summary = metrics.summarize(matrix, ["a", "b"])
    assert summary["pixel_accuracy"] == 1.0 and summary["macro_f1"] == 1.0
    # whatever is predicted there
    other = metrics.confusion_matrix(true, np.where(true == UNKNOWN_INDEX, 0, predicted), 3)
    np.testing.assert_array_equal(other, matrix)


def test_summary_by_hand():
    # rows true, columns predicted: background, a, b, c (c absent from the targets)
    matrix = np.array(
        [
            [50, 2, 0, 1],
            [4, 6, 0, 0],
            [0, 2, 8, 0],
            [0, 0, 0, 0],
        ]
    )
    summary = metrics.summarize(matrix, ["a", "b", "c"], step=7)
    assert summary["step"] == 7
    assert summary["pixel_accuracy"] == pytest.approx(64 / 73)
    a = summary["classes"]["a"]
    assert a["precision"] == pytest.approx(6 / 10)
    assert a["recall"] == pytest.approx(6 / 10)
    assert a["f1"] == pytest.approx(0.6)
    assert a["iou"] == pytest.approx(6 / 14)
    assert a["support"] == 10
    b = summary["classes"]["b"]
    assert b["precision"] == pytest.approx(1.0)
    assert b["recall"] == pytest.approx(0.8)
    assert b["f1"] == pytest.approx(2 * 0.8 / 1.8)
    c = summary["classes"]["c"]
    assert c == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "iou": 0.0, "support": 0}
    # macro over the classes present in the targets only (a, b)
    assert summary["macro_f1"] == pytest.approx((0.6 + 2 * 0.8 / 1.8) / 2)
    assert set(summary) == {"step", "pixel_accuracy", "macro_f1", "classes"}


def test_background_baseline():
    matrix = np.array([[90, 0], [5, 5]])
    baseline = metrics.background_baseline(matrix, ["a"])
    assert baseline["pixel_accuracy"] == pytest.approx(0.9)
    assert baseline["macro_f1"] == 0.0


def test_summary_rejects_wrong_size():
    with pytest.raises(ValueError, match="classes"):
        metrics.summarize(np.zeros((3, 3)), ["a"])
