"""Scores of one document (field x measure) and their totals over a corpus."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sciencebeam_gym.field_evaluation.fields import (
    FIELDS,
    SET_FIELDS,
    TEXT_FIELDS,
    ArticleFields,
)
from sciencebeam_gym.field_evaluation.measures import (
    MEASURES,
    Counts,
    Measure,
    count_agreement,
    list_counts,
    text_counts,
    unique_items,
)

COUNT_MEASURE = "count"  # references only: does the extraction find as many as the publisher has
COUNTED_FIELDS = ("references",)


@dataclass(frozen=True)
class FieldScore:
    """One field of one document under one measure; `similarity` for single texts only."""

    field: str
    measure: str
    counts: Counts
    similarity: float | None = None


def _items(fields: ArticleFields, field: str) -> list[str]:
    items = list(fields.items(field))
    return unique_items(items) if field in SET_FIELDS else items


def score_field(gold: ArticleFields, extracted: ArticleFields, field: str, measure: Measure):
    """The score of one field under one measure."""
    if field in TEXT_FIELDS:
        expected, actual = gold.text(field), extracted.text(field)
        similarity = measure.similarity(expected, actual) if expected and actual else None
        return FieldScore(field, measure.name, text_counts(measure, expected, actual), similarity)
    counts = list_counts(measure, _items(gold, field), _items(extracted, field))
    return FieldScore(field, measure.name, counts)


def score_document(gold: ArticleFields, extracted: ArticleFields) -> list[FieldScore]:
    """Every field under every measure, plus the reference count."""
    scores = [
        score_field(gold, extracted, field, measure) for field in FIELDS for measure in MEASURES
    ]
    for field in COUNTED_FIELDS:
        counts = count_agreement(len(gold.items(field)), len(extracted.items(field)))
        scores.append(FieldScore(field, COUNT_MEASURE, counts))
    return scores


def total_counts(scores: Iterable[FieldScore]) -> dict[tuple[str, str], Counts]:
    """(field, measure) -> counts summed over documents (micro totals)."""
    totals: dict[tuple[str, str], Counts] = {}
    for score in scores:
        key = (score.field, score.measure)
        totals[key] = totals.get(key, Counts(0, 0, 0)) + score.counts
    return totals


def field_summary(scores_by_document: Iterable[list[FieldScore]]) -> dict[str, dict[str, dict]]:
    """field -> measure -> micro precision / recall / F1 with their counts, and the number of
    documents where the publisher has the field."""
    documents: dict[tuple[str, str], int] = {}
    all_scores: list[FieldScore] = []
    for scores in scores_by_document:
        for score in scores:
            all_scores.append(score)
            if score.counts.expected:
                key = (score.field, score.measure)
                documents[key] = documents.get(key, 0) + 1
    summary: dict[str, dict[str, dict]] = {}
    for (field, measure), counts in total_counts(all_scores).items():
        summary.setdefault(field, {})[measure] = {
            "precision": counts.precision,
            "recall": counts.recall,
            "f1": counts.f1,
            "expected": counts.expected,
            "actual": counts.actual,
            "matched": counts.matched,
            "documents": documents.get((field, measure), 0),
        }
    return summary
