"""The train/test split by document."""

import re

from sciencebeam_gym.generate.splits import split_for


def test_split_is_deterministic_by_document_and_follows_the_fraction():
    ids = [f"doc-{i}" for i in range(2000)]
    splits = [split_for(i, 0.2) for i in ids]
    assert splits == [split_for(i, 0.2) for i in ids]
    assert 0.16 < splits.count("test") / len(ids) < 0.24
    assert all(split_for(i, 0.0) == "train" for i in ids[:50])
    assert all(split_for(i, 1.0) == "test" for i in ids[:50])
    assert all(re.fullmatch("train|test", s) for s in splits)


def _pairs(ids, complete=True):
    from sciencebeam_gym.document.sources import SourcePair

    return [SourcePair(i, f"{i}.pdf", f"{i}.xml" if complete else None) for i in ids]


def test_rank_split_gives_the_asked_share_where_the_hash_threshold_gives_none():
    from pathlib import Path

    from sciencebeam_gym.generate.splits import assign_splits

    hindawi = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pdf-jats-hindawi"
    ids = sorted(p.stem for p in hindawi.glob("*.pdf")) or [f"PMC47{i:05d}" for i in range(56)]
    by_hash = assign_splits(_pairs(ids), 0.2, "hash")
    by_rank = assign_splits(_pairs(ids), 0.2)
    assert [p.split for p in by_hash] == [split_for(i, 0.2) for i in ids]
    assert sum(p.split == "test" for p in by_rank) == round(len(ids) * 0.2)
    # the same source splits the same way, whatever the order it is listed in
    again = assign_splits(_pairs(list(reversed(ids))), 0.2)
    assert {p.doc_id for p in again if p.split == "test"} == {
        p.doc_id for p in by_rank if p.split == "test"
    }


def test_rank_split_keeps_both_sides_and_skips_incomplete_pairs():
    from sciencebeam_gym.generate.splits import assign_splits

    assert [p.split for p in assign_splits(_pairs(["a", "b"]), 0.01)].count("test") == 1
    assert [p.split for p in assign_splits(_pairs(["a", "b"]), 0.99)].count("train") == 1
    assert {p.split for p in assign_splits(_pairs(["a", "b", "c"]), 1.0)} == {"test"}
    assert {p.split for p in assign_splits(_pairs(["a", "b", "c"]), 0.0)} == {"train"}
    broken = assign_splits(_pairs(["x", "y"], complete=False) + _pairs(["a", "b"]), 0.5)
    assert [p.split for p in broken[:2]] == ["train", "train"]  # never take a test place
    assert [p.split for p in broken[2:]].count("test") == 1
