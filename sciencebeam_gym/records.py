"""The TFRecord contract between preprocessing and its readers: the completion report.

Preprocessing writes `preprocess-report.json` into its output folder last, after the shards are in
place, so a folder of shards without it holds an interrupted or unfinished run.
"""

from __future__ import annotations

from collections.abc import Iterable

from sciencebeam_gym import fs

REPORT_NAME = "preprocess-report.json"
ALLOW_INCOMPLETE_FLAG = "--allow_incomplete_data"


class IncompleteDataError(ValueError):
    """Record files in a folder without a completion report; the message names the folders."""


def folders_without_report(files: Iterable[str]) -> list[str]:
    """The folders of `files` (sorted, each once) that hold no completion report."""
    folders = sorted({fs.dirname(path) for path in files})
    return [folder for folder in folders if not fs.exists(fs.join(folder, REPORT_NAME))]


def check_completion_reports(files: Iterable[str], flag: str = ALLOW_INCOMPLETE_FLAG) -> None:
    """IncompleteDataError naming every folder of `files` that has no completion report."""
    missing = folders_without_report(files)
    if missing:
        listed = "\n".join(f"  {folder}" for folder in missing)
        raise IncompleteDataError(
            f"no {REPORT_NAME} in {len(missing)} input folder(s), so their preprocessing run "
            f"did not finish (or the records were made elsewhere):\n{listed}\n"
            f"re-run ./preprocess.sh, or pass {flag} to use the records as they are"
        )
