"""`GLOB[,GLOB...][:WEIGHT]`: a training source and its weight, as train.sh's TRAIN_DATA_PATHS and
train-word-model.sh's WORD_TRAIN_PATHS write them (one parser for both)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """One `GLOB[,GLOB...][:WEIGHT]` value: its globs and its weight."""

    text: str
    globs: tuple[str, ...]
    weight: float = 1.0


def parse_source(
    text: str, flag: str = "--train_data_paths", error: type[ValueError] = ValueError
) -> Source:
    """GLOB[,GLOB...][:WEIGHT]; the weight is what follows the last ':' when it holds no '/'
    (so gs://bucket/x/*.tfrecord.gz has none). `error` (a ValueError) names the flag and value."""
    head, colon, tail = text.rpartition(":")
    weight = 1.0
    if colon and "/" not in tail:
        try:
            weight = float(tail)
        except ValueError:
            raise error(f"weight {tail!r} of {flag} {text} is not a number") from None
        if not (math.isfinite(weight) and weight > 0):
            raise error(f"weight {tail!r} of {flag} {text} must be a number > 0")
    else:
        head = text
    globs = tuple(glob for glob in head.split(",") if glob)
    if not globs:
        raise error(f"{flag} {text}: no glob (expected GLOB[:WEIGHT])")
    return Source(text, globs, weight)
