"""The train/test split of generate-data, by document: deterministic from the document's id."""

from __future__ import annotations

import dataclasses
import hashlib

from sciencebeam_gym.data_layout import TEST, TRAIN
from sciencebeam_gym.document.sources import SourcePair

# The share of documents that go to test/ (GENERATE_TEST_FRACTION; REAL_TEST_FRACTION too).
DEFAULT_TEST_FRACTION = 0.2


def document_hash(doc_id: str) -> float:
    """The document's place in [0, 1): the SHA-1 of its id read as a fraction."""
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8], 16) / 0x100000000


def split_for(doc_id: str, test_fraction: float) -> str:
    """'test' when the document's hash is below the fraction, else 'train' (`--split hash`):
    each document keeps its side whatever else the source holds, the share is only expected."""
    return TEST if document_hash(doc_id) < test_fraction else TRAIN


SPLIT_METHODS = ("rank", "hash")


def assign_splits(pairs: list[SourcePair], test_fraction: float, method: str = "rank"):
    """The pairs with their split.

    `rank` (the default): the complete pairs ordered by hash, the first round(n x fraction) go to
    test, at least one when the fraction is above 0 and never all when it is below 1 (with two
    pairs or more). The share is then what was asked even for a small source, where a hash
    threshold alone can leave a split empty (56 articles of one journal family all hashed above
    0.4); a document changes side only when documents are added or removed. `hash`: `split_for`.
    """
    if method == "hash":
        return [dataclasses.replace(p, split=split_for(p.doc_id, test_fraction)) for p in pairs]
    complete = sorted((p for p in pairs if p.pdf and p.xml), key=lambda p: document_hash(p.doc_id))
    count = round(len(complete) * test_fraction)
    if len(complete) >= 2:
        count = min(max(count, 1 if test_fraction > 0 else 0), len(complete) - (test_fraction < 1))
    test_ids = {p.doc_id for p in complete[:count]}
    return [dataclasses.replace(p, split=TEST if p.doc_id in test_ids else TRAIN) for p in pairs]
