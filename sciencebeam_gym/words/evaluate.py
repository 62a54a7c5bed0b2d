"""Word-level figures of a word model: per class, precision, recall and F1 over words.

The class the alignment gave each word is the truth; words it left unknown are scored like any
class (a model that labels them is not wrong to, so read `unknown` as a share, not a verdict).
A word's class is scored whether or not it begins an instance (`B-<class>` counts as <class>);
`starts` scores, per class that has them, the words that begin an instance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sciencebeam_gym.color_map import UNKNOWN_LABEL
from sciencebeam_gym.words.model import START_PREFIX, split_label


def count_labels(pages: Iterable[tuple[list[str], list[str]]]) -> dict[str, Counter]:
    """Per class the words right (tp), labelled it wrongly (fp) and missed (fn), over pages of
    (expected, predicted) labels; `B-<class>` counted as <class> and, under `B-<class>`, as an
    instance start."""
    counts: dict[str, Counter] = {}
    for expected, predicted in pages:
        for truth, guess in zip(expected, predicted, strict=True):
            if truth.startswith(START_PREFIX) or guess.startswith(START_PREFIX):
                _count(counts, START_PREFIX + split_label(truth)[0], truth, guess)
            truth, guess = split_label(truth)[0], split_label(guess)[0]
            if truth == guess:
                counts.setdefault(truth, Counter())["tp"] += 1
            else:
                counts.setdefault(guess, Counter())["fp"] += 1
                counts.setdefault(truth, Counter())["fn"] += 1
    return counts


def _count(counts: dict[str, Counter], key: str, truth: str, guess: str) -> None:
    """An instance start: right when both begin one of the same class."""
    if truth == guess:
        counts.setdefault(key, Counter())["tp"] += 1
        return
    if guess.startswith(START_PREFIX):
        counts.setdefault(guess, Counter())["fp"] += 1
    if truth.startswith(START_PREFIX):
        counts.setdefault(truth, Counter())["fn"] += 1


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def scores(counts: dict[str, Counter]) -> dict:
    """Per class precision, recall, F1 and support; accuracy and the macro F1 of the classes
    other than unknown that the truth holds."""
    classes = {}
    for label, c in sorted(counts.items()):
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        classes[label] = {
            "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
            "f1": round(f1(tp, fp, fn), 4),
            "support": tp + fn,
        }
    plain = {k: c for k, c in counts.items() if not k.startswith(START_PREFIX)}
    words = sum(c["tp"] + c["fn"] for c in plain.values())
    right = sum(c["tp"] for c in plain.values())
    present = [
        v["f1"]
        for k, v in classes.items()
        if v["support"] and k != UNKNOWN_LABEL and not k.startswith(START_PREFIX)
    ]
    return {
        "words": words,
        "accuracy": round(right / words, 4) if words else 0.0,
        "macro_f1": round(sum(present) / len(present), 4) if present else 0.0,
        "classes": classes,
    }


def format_scores(figures: dict) -> str:
    """A table of `scores`."""
    lines = [f"{'class':<22} {'precision':>9} {'recall':>7} {'f1':>6} {'words':>8}"]
    for label, row in figures["classes"].items():
        lines.append(
            f"{label:<22} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} "
            f"{row['support']:>8}"
        )
    lines.append(
        f"words {figures['words']}, accuracy {figures['accuracy']:.3f}, macro F1 "
        f"{figures['macro_f1']:.3f} (classes but unknown)"
    )
    return "\n".join(lines)
