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


@pytest.mark.parametrize(
    ("uri", "group"),
    [
        # the generated and sample layouts: <split>/<group>/<doc>/<page>
        (
            ".models/pix2pix/v4/data/test/sample-000/sample-test-00000/sample-test-00000-page1.png",
            "sample-000",
        ),
        ("/home/me/data/train/hindawi/PMC4686705/PMC4686705-page3.png", "hindawi"),
        ("gs://bucket/data/test/plos/plos-pone-0115884/plos-pone-0115884-page1.png", "plos"),
        ("file:///data/eval/elife/doc/doc-page1.png", "elife"),
        ("C:\\data\\test\\hindawi\\doc\\doc-page1.png", "hindawi"),
        # a path above the data folder that holds a split name: the split nearest the page
        ("/work/test/models/data/train/f1000/doc/doc-page1.png", "f1000"),
        # a group named like a split keeps its place in the layout
        ("/data/train/test/doc/doc-page1.png", "test"),
        # no document folder: <split>/<group>/<page>
        ("/data/test/plos/doc-page1.png", "plos"),
        # no split folder: the page's grandparent
        ("/corpus/hindawi/doc/doc-page1.png", "hindawi"),
        ("gs://bucket/doc/doc-page1.png", "bucket"),
        # too shallow to tell
        ("doc/page-0.png", metrics.UNKNOWN_GROUP),
        ("page-0.png", metrics.UNKNOWN_GROUP),
        ("", metrics.UNKNOWN_GROUP),
    ],
)
def test_page_group(uri, group):
    assert metrics.page_group(uri) == group


def test_grouped_confusion_splits_the_pages_by_group():
    true = np.array([[0, 1], [1, 1], [2, 0]])  # three 1 x 2 pages
    predicted = np.array([[0, 1], [0, 1], [2, 2]])
    confusion = metrics.GroupedConfusion(3)
    confusion.add(true, predicted, ["a", "b", "a"])
    confusion.add(true[:1], predicted[:1], ["b"])
    np.testing.assert_array_equal(
        confusion.groups["a"], metrics.confusion_matrix(true[[0, 2]], predicted[[0, 2]], 3)
    )
    np.testing.assert_array_equal(confusion.groups["b"], [[1, 0, 0], [1, 2, 0], [0, 0, 0]])
    assert confusion.pages == {"a": 2, "b": 2}
    np.testing.assert_array_equal(sum(confusion.groups.values()), confusion.overall)
    assert confusion.overall.sum() == 8


def test_grouped_confusion_refuses_a_group_count_that_does_not_fit():
    with pytest.raises(ValueError, match="2 groups for 3 pages"):
        metrics.GroupedConfusion(3).add(np.zeros((3, 2)), np.zeros((3, 2)), ["a", "b"])


def test_group_summaries_have_the_overall_per_class_shape():
    confusion = metrics.GroupedConfusion(3)
    confusion.add(np.array([[1, 1], [2, 0]]), np.array([[1, 0], [2, 0]]), ["z", "a"])
    groups = metrics.summarize_groups(confusion, ["x", "y"])
    assert list(groups) == ["a", "z"]
    assert groups["z"]["pages"] == 1
    assert groups["z"]["pixel_accuracy"] == pytest.approx(0.5)
    assert groups["z"]["macro_f1"] == pytest.approx(2 / 3)  # y absent from z's targets
    assert groups["a"]["pixel_accuracy"] == 1.0
    overall = metrics.summarize(confusion.overall, ["x", "y"])
    assert groups["a"]["classes"].keys() == overall["classes"].keys()
    assert groups["a"]["classes"]["y"] == overall["classes"]["y"]
