"""The run's report: per document its status or skip reason, per field its token coverage,
per page its unknown text.

Written to `<output_path>/generate-report/`: `documents.csv`, `fields.csv` (one row per document,
page and label, like an annotation evaluation), `pages.csv` (one row per page: text and unknown
pixels, the classes painted) and `report.json` (everything, plus the summary). Token coverage is
the share of an XML field's tokens found and painted on the page, counted over the field
instances found on that page. Unknown text is page text no field claimed (see `paint`).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

from sciencebeam_gym.document.tokens import MAX_PAGE_TOKENS
from sciencebeam_gym.generate.document import OK, DocumentResult
from sciencebeam_gym.storage import fs

REPORT_FOLDER = "generate-report"
DOCUMENT_COLUMNS = (
    "doc_id",
    "split",
    "status",
    "reason",
    "detail",
    "pages",
    "seconds",
    "pdf",
    "xml",
)
FIELD_COLUMNS = (
    "doc_id",
    "page",
    "label",
    "instances",
    "instances_found",
    "tokens",
    "tokens_on_page",
    "tokens_found",
    "coverage",
)
PAGE_COLUMNS = (
    "doc_id",
    "page",
    "pixels",
    "text_pixels",
    "unknown_pixels",
    "unknown_fraction",
    "unknown_text_fraction",
    "classes",
    "words",
    "words_cut",
)
REPORT_FILES = ("report.json", "documents.csv", "fields.csv", "pages.csv")


def report_folder(output_path: str) -> str:
    return fs.join(output_path, REPORT_FOLDER)


def invalidate_report(output_path: str) -> None:
    """Remove an earlier run's report, so an interrupted run leaves none that looks complete."""
    folder = report_folder(output_path)
    fs.delete([fs.join(folder, name) for name in REPORT_FILES])


def summarise_unknown(results: list[dict]) -> dict:
    """Unknown text over all pages: its share of the text and page pixels (pooled), the pages
    that have some, and the largest share of a page's text."""
    rows = [row for result in results for row in result.get("page_rows", [])]
    unknown = sum(row["unknown_pixels"] for row in rows)
    text = sum(row["text_pixels"] for row in rows)
    pixels = sum(row["pixels"] for row in rows)
    return {
        "pages": len(rows),
        "pages_with_unknown": sum(row["unknown_pixels"] > 0 for row in rows),
        "unknown_text_fraction": round(unknown / text, 4) if text else 0.0,
        "unknown_fraction": round(unknown / pixels, 4) if pixels else 0.0,
        "max_unknown_text_fraction": max((r["unknown_text_fraction"] for r in rows), default=0.0),
        "pages_with_words_cut": sum(bool(r.get("words_cut")) for r in rows),
    }


def summarise(results: list[dict]) -> dict:
    """Totals and per-label coverage over all documents (micro-averaged over tokens)."""
    labels: dict[str, dict] = {}
    for result in results:
        for row in result["fields"]:
            summary = labels.setdefault(
                row["label"],
                {
                    "documents": 0,
                    "found_on_page": 0,
                    "tokens_on_page": 0,
                    "tokens_found": 0,
                    "min": 1.0,
                },
            )
            summary["documents"] += 1
            if row["instances_found"]:
                summary["found_on_page"] += 1
                summary["tokens_on_page"] += row["tokens_on_page"]
                summary["tokens_found"] += row["tokens_found"]
                summary["min"] = min(summary["min"], row["coverage"])
    for summary in labels.values():
        on_page = summary["tokens_on_page"]
        summary["coverage"] = round(summary["tokens_found"] / on_page, 4) if on_page else None
        summary["min"] = round(summary["min"], 4) if summary["found_on_page"] else None
    skipped: dict[str, int] = {}
    for result in results:
        if result["status"] != OK:
            skipped[result["reason"]] = skipped.get(result["reason"], 0) + 1
    return {
        "documents": len(results),
        "documents_ok": sum(r["status"] == OK for r in results),
        "pages_written": sum(len(r["pages"]) for r in results),
        "skipped": skipped,
        "labels": labels,
        "unknown": summarise_unknown(results),
    }


def _csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def write_report(output_path: str, documents: list[DocumentResult], settings_info: dict) -> dict:
    """Write the three report files (atomically); returns the JSON report."""
    results = sorted((asdict(d) for d in documents), key=lambda r: r["doc_id"])
    report = {"settings": settings_info, "summary": summarise(results), "documents": results}
    folder = report_folder(output_path)
    document_rows = [{**r, "pages": " ".join(map(str, r["pages"]))} for r in results]
    field_rows = [{"doc_id": r["doc_id"], **row} for r in results for row in r["fields"]]
    page_rows = [{"doc_id": r["doc_id"], **row} for r in results for row in r["page_rows"]]
    fs.write_text(fs.join(folder, "documents.csv"), _csv(document_rows, DOCUMENT_COLUMNS))
    fs.write_text(fs.join(folder, "fields.csv"), _csv(field_rows, FIELD_COLUMNS))
    fs.write_text(fs.join(folder, "pages.csv"), _csv(page_rows, PAGE_COLUMNS))
    fs.write_text(fs.join(folder, "report.json"), json.dumps(report, indent=1, ensure_ascii=False))
    return report


def format_summary(report: dict) -> str:
    """A readable summary table of a report."""
    summary = report["summary"]
    lines = [
        f"documents: {summary['documents']}  ok: {summary['documents_ok']}  "
        f"pages written: {summary['pages_written']}"
    ]
    for reason, count in sorted(summary["skipped"].items()):
        lines.append(f"  skipped ({reason}): {count}")
    for result in report["documents"]:
        if result["status"] != OK:
            lines.append(f"    {result['doc_id']}: {result['reason']} {result['detail'][:100]}")
    lines.append("")
    lines.append(f"{'label':<22} {'on page':>9} {'coverage':>9} {'min':>6}")
    for label, row in sorted(summary["labels"].items()):
        coverage = "-" if row["coverage"] is None else f"{row['coverage']:.3f}"
        minimum = "-" if row["min"] is None else f"{row['min']:.2f}"
        on_page = f"{row['found_on_page']}/{row['documents']}"
        lines.append(f"{label:<22} {on_page:>9} {coverage:>9} {minimum:>6}")
    lines.append("(on page: pages that show the field / pages whose XML has it;")
    lines.append(" coverage: share of the shown fields' tokens found and painted)")
    lines.append(format_unknown(summary["unknown"], report["settings"].get("unknown_text")))
    cut = summary["unknown"].get("pages_with_words_cut", 0)
    if cut:
        lines.append(
            f"warning: {cut} pages have more than {MAX_PAGE_TOKENS} words; their token files "
            "keep the first ones (pages.csv: words, words_cut)"
        )
    return "\n".join(lines)


def format_unknown(unknown: dict, unknown_text: str | None) -> str:
    """One line on the text no field claimed (painted unknown, or background)."""
    painted = "painted as background" if unknown_text == "background" else "painted unknown"
    return (
        f"text no field claims ({painted}): {unknown['unknown_text_fraction']:.1%} of the text "
        f"pixels, {unknown['unknown_fraction']:.1%} of the page pixels, on "
        f"{unknown['pages_with_unknown']}/{unknown['pages']} pages "
        f"(most on one page: {unknown['max_unknown_text_fraction']:.1%} of its text)"
    )
