"""The evaluation's outputs: `fields.csv` (document x field x measure), `summary.json` (totals per
field and measure, skipped documents with their reasons, the fields each document missed) and the
table printed on the console."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

from sciencebeam_gym.field_evaluation.documents import SCORED, SKIPPED, DocumentResult
from sciencebeam_gym.field_evaluation.fields import FIELDS
from sciencebeam_gym.field_evaluation.measures import MEASURES, SOFT
from sciencebeam_gym.field_evaluation.scoring import COUNT_MEASURE, FieldScore, field_summary
from sciencebeam_gym.storage import fs

CSV_NAME = "fields.csv"
SUMMARY_NAME = "summary.json"
CSV_COLUMNS = (
    *("doc_id", "status", "reason", "field", "measure", "expected", "actual", "matched"),
    *("precision", "recall", "f1", "similarity"),
)
TABLE_MEASURES = (*(m.name for m in MEASURES), COUNT_MEASURE)
TABLE_HEADINGS = {"ratcliff_obershelp": "ratcliff/o."}


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def csv_rows(result: DocumentResult) -> list[dict]:
    """The CSV rows of one document: one per field and measure, or one with the skip reason."""
    if result.status != SCORED:
        reason = f"{result.reason}: {result.detail}" if result.detail else result.reason
        return [{"doc_id": result.doc_id, "status": result.status, "reason": reason}]
    return [_score_row(result.doc_id, score) for score in result.scores]


def _score_row(doc_id: str, score: FieldScore) -> dict:
    counts = score.counts
    return {
        **{"doc_id": doc_id, "status": SCORED, "reason": ""},
        **{"field": score.field, "measure": score.measure, "expected": counts.expected},
        **{"actual": counts.actual, "matched": counts.matched},
        **{"precision": _number(counts.precision), "recall": _number(counts.recall)},
        **{"f1": _number(counts.f1), "similarity": _number(score.similarity)},
    }


def fields_csv(results: list[DocumentResult]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in results:
        writer.writerows(csv_rows(result))
    return out.getvalue()


def failure_lines(result: DocumentResult) -> list[str]:
    """One line per field the document did not get fully right under soft matching."""
    return [
        f"{score.field}: {_failure_reason(score)}"
        for score in result.scores
        if score.measure == SOFT.name
        and score.counts.matched < max(score.counts.expected, score.counts.actual)
    ]


def _failure_reason(score: FieldScore) -> str:
    counts = score.counts
    if counts.expected == 0:
        return f"{counts.actual} extracted, none in the publisher's XML"
    if counts.actual == 0:
        return "not extracted"
    if score.similarity is not None:
        return f"does not match (Levenshtein similarity {score.similarity:.2f} < {SOFT.threshold})"
    return (
        f"{counts.matched} of {counts.expected} matched, "
        f"{counts.actual - counts.matched} of {counts.actual} extracted match nothing"
    )


def summarise(results: list[DocumentResult], settings: dict) -> dict:
    scored = [r for r in results if r.status == SCORED]
    skipped = [r for r in results if r.status == SKIPPED]
    return {
        "settings": settings,
        "documents": {
            "total": len(results),
            "scored": len(scored),
            "skipped": len(skipped),
            "skipped_by_reason": dict(Counter(r.reason for r in skipped)),
        },
        "fields": field_summary(r.scores for r in scored),
        "skipped": [{"doc_id": r.doc_id, "reason": r.reason, "detail": r.detail} for r in skipped],
        "failures": {r.doc_id: failure_lines(r) for r in scored if failure_lines(r)},
        "seconds": round(sum(r.seconds for r in results), 3),
    }


def write_report(evaluation_path: str, results: list[DocumentResult], settings: dict) -> dict:
    """Write fields.csv and summary.json (each complete or not at all); returns the summary."""
    results = sorted(results, key=lambda r: r.doc_id)
    summary = summarise(results, settings)
    fs.write_text(fs.join(evaluation_path, CSV_NAME), fields_csv(results))
    fs.write_text(fs.join(evaluation_path, SUMMARY_NAME), json.dumps(summary, indent=2) + "\n")
    return summary


def _percent(entry: dict | None) -> str:
    if not entry or entry["f1"] is None:
        return "-"
    return f"{100 * entry['f1']:.1f}"


def format_table(summary: dict) -> str:
    """Micro F1 (%) per field and measure, with the documents that have the field."""
    headings = (TABLE_HEADINGS.get(m, m) for m in TABLE_MEASURES)
    header = f"{'field':<16}{'docs':>6}" + "".join(f"{h:>13}" for h in headings)
    lines = [header, "-" * len(header)]
    for field in FIELDS:
        measures = summary["fields"].get(field, {})
        documents = max((entry["documents"] for entry in measures.values()), default=0)
        cells = "".join(f"{_percent(measures.get(m)):>13}" for m in TABLE_MEASURES)
        lines.append(f"{field:<16}{documents:>6}{cells}")
    counts = summary["documents"]
    lines.append(
        f"documents: {counts['scored']} scored, {counts['skipped']} skipped"
        + "".join(f"; {n} {reason}" for reason, n in counts["skipped_by_reason"].items())
    )
    return "\n".join(lines)
