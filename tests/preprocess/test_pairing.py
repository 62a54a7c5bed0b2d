import os

import pytest

from sciencebeam_gym.preprocess import pairing
from sciencebeam_gym.preprocess.pairing import Pair, find_pairs

PATTERN = pairing.compile_target_pattern(pairing.DEFAULT_TARGET_PATTERN)


@pytest.mark.parametrize(
    "name",
    [
        "x-page1.annot.png",
        "x-page1-target.png",
        "x-page1-annotation.png",
        "annot-x-page1.png",
    ],
)
def test_annotation_names_share_the_page_stem(name):
    assert pairing.is_annotation(f"d/{name}", PATTERN)
    assert pairing.pair_key(f"d/{name}", PATTERN) == pairing.pair_key("d/x-page1.png", PATTERN)


def test_pages_are_not_annotations():
    for name in ("x-page1.png", "targets-page1.png", "notation-page1.png"):
        assert not pairing.is_annotation(f"d/{name}", PATTERN)


def test_pairs_by_name_where_sorted_order_would_mispair():
    paths = [
        "data/a/a-page1.png",
        "data/a/a-page1.annot.png",
        "data/a/ab-page1.png",  # no annotation: sorted order would shift every pair after it
        "data/a/b-page1.png",
        "data/a/b-page1.annot.png",
    ]
    pairs, skipped = find_pairs(reversed(paths))
    assert pairs == [
        Pair("data/a/a-page1.png", "data/a/a-page1.annot.png"),
        Pair("data/a/b-page1.png", "data/a/b-page1.annot.png"),
    ]
    assert [(s.path, s.reason) for s in skipped] == [
        ("data/a/ab-page1.png", pairing.MISSING_ANNOTATION)
    ]


def test_same_name_in_different_folders_does_not_mix():
    pairs, skipped = find_pairs(["one/x-page1.png", "two/x-page1.annot.png"])
    assert pairs == []
    assert sorted((s.path, s.reason) for s in skipped) == [
        ("one/x-page1.png", pairing.MISSING_ANNOTATION),
        ("two/x-page1.annot.png", pairing.MISSING_PAGE),
    ]


def test_two_annotations_for_one_page_skip_the_page_naming_both():
    pairs, skipped = find_pairs(["d/x-page1.png", "d/x-page1.annot.png", "d/x-page1-target.png"])
    assert pairs == []
    assert [(s.path, s.reason) for s in skipped] == [
        ("d/x-page1.png", pairing.MULTIPLE_ANNOTATIONS)
    ]
    assert "d/x-page1.annot.png" in skipped[0].message
    assert "d/x-page1-target.png" in skipped[0].message


def test_two_pages_for_one_name_are_skipped():
    pairs, skipped = find_pairs(["d/x-page1.png", "d/x-page1.jpg", "d/x-page1.annot.png"])
    assert pairs == []
    assert {s.reason for s in skipped} == {pairing.MULTIPLE_PAGES}
    assert {s.path for s in skipped} == {"d/x-page1.png", "d/x-page1.jpg"}


def test_folder_names_matching_the_pattern_do_not_make_pages_annotations():
    pairs, skipped = find_pairs(["annotations/x-page1.png", "annotations/x-page1.annot.png"])
    assert pairs == [Pair("annotations/x-page1.png", "annotations/x-page1.annot.png")]
    assert skipped == []


def test_spaces_non_ascii_and_urls_pair():
    paths = [
        "gs://bucket/data/grüppe 1/doc ü/doc ü-page1.png",
        "gs://bucket/data/grüppe 1/doc ü/doc ü-page1.annot.png",
    ]
    pairs, skipped = find_pairs(paths)
    assert pairs == [Pair(*paths)]
    assert skipped == []


def test_duplicate_paths_from_overlapping_globs_count_once():
    paths = ["d/x-page1.png", "d/x-page1.annot.png"]
    pairs, skipped = find_pairs(paths + paths)
    assert len(pairs) == 1 and skipped == []


def test_custom_target_pattern():
    pairs, _ = find_pairs(["d/x-page1.png", "d/x-page1.labels.png"], r"\blabels\b")
    assert pairs == [Pair("d/x-page1.png", "d/x-page1.labels.png")]


def test_invalid_target_pattern_names_the_flag():
    with pytest.raises(ValueError, match="--target_pattern"):
        find_pairs(["d/x.png"], "(unclosed")


def test_names_that_are_not_utf8_are_skipped_with_a_reason():
    latin1 = os.fsdecode(b"/data/g/caf\xe9/caf\xe9-page1.png")
    paths = ["/data/g/a/a-page1.png", "/data/g/a/a-page1.annot.png", latin1]
    pairs, skipped = pairing.find_pairs(paths)
    assert pairs == [pairing.Pair("/data/g/a/a-page1.png", "/data/g/a/a-page1.annot.png")]
    [item] = skipped
    assert item.reason == pairing.UNDECODABLE_NAME
    assert item.path == "/data/g/caf\\xe9/caf\\xe9-page1.png"
    assert item.message.encode("utf-8")  # fit for the work list and the report
