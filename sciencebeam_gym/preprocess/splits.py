"""Preprocess both splits of a data folder: preprocess.sh's command.

    python -m sciencebeam_gym.preprocess --data_path .models/pix2pix/v4/data \\
        --preproc_path .models/pix2pix/v4/preproc [pipeline flags, e.g. --num_workers 2]

Runs the pipeline (`pipeline`) once per split: the pages of `<data_path>/<split>` (every page of
every document, `data_layout.PAGES_GLOB`) to `<preproc_path>/<split>`. A split without pages is
skipped with a warning (a folder of test pages alone, for an evaluation, is fine); no pages in
any split is an error. Every flag this command does not know goes to each split's pipeline, so
a misspelt one is refused before anything runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sciencebeam_gym import cli
from sciencebeam_gym.data_layout import PAGES_GLOB, SPLITS
from sciencebeam_gym.preprocess import pipeline
from sciencebeam_gym.preprocess.pipeline import PreprocessError
from sciencebeam_gym.storage import fs
from sciencebeam_gym.storage.folder_lock import FolderLockedError


def get_args_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.preprocess",
        description="Preprocess the train and test splits of a data folder into gzipped "
        "TFRecords, one pipeline run per split (a split without pages is skipped).",
        epilog="Every other flag goes to each split's pipeline:\n\n"
        + pipeline.get_args_parser().format_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data_path", required=True, help="data folder with the splits (DATA_PATH)"
    )
    parser.add_argument(
        "--preproc_path", required=True, help="folder for each split's records (PREPROC_PATH)"
    )
    parser.add_argument(
        "--job_id",
        default=None,
        help="with --cloud: each split's Dataflow job is named <job_id>-preprocess-<split> "
        "(JOB_ID; a --job_name given wins)",
    )
    cli.add_dry_run(parser, help="print each split's resolved settings and pipeline options")
    return parser


def split_pages_glob(data_path: str, split: str) -> str:
    """Every page of every document of a split; the data path matches only itself."""
    return fs.join(fs.escape_glob(fs.join(data_path, split)), PAGES_GLOB)


def known_empty(data_path: str, split: str) -> bool:
    """A local split without pages (a bucket is left to the pipeline, which says so)."""
    return not fs.is_remote(data_path) and not fs.glob(split_pages_glob(data_path, split))


def pipeline_argv(opts: argparse.Namespace, split: str, rest: Sequence[str]) -> list[str]:
    """The pipeline's arguments for one split; the caller's own flags last, so they win."""
    argv = [
        "--data_paths",
        split_pages_glob(opts.data_path, split),
        "--output_path",
        fs.join(opts.preproc_path, split),
    ]
    if opts.job_id:
        argv += ["--job_name", f"{opts.job_id}-preprocess-{split}"]
    if opts.dry_run:
        argv.append("--dry_run")
    return argv + list(rest)


def warn_skipped(opts: argparse.Namespace, split: str) -> None:
    print(
        f"warning: no pages in {fs.join(opts.data_path, split)}: split skipped "
        f"({fs.join(opts.preproc_path, split)} left as it was)",
        file=sys.stderr,
    )


def preprocess_split(opts: argparse.Namespace, split: str, rest: Sequence[str]) -> bool:
    """Run one split; False when its pipeline found no input (the split is skipped)."""
    print(
        f"==> preprocess {split}: {fs.join(opts.data_path, split)} -> "
        f"{fs.join(opts.preproc_path, split)}",
        file=sys.stderr,
        flush=True,
    )
    try:
        pipeline.run(pipeline_argv(opts, split, rest))
    except PreprocessError as error:
        if error.exit_code != cli.EXIT_NO_INPUT:
            raise
        warn_skipped(opts, split)
        return False
    return True


def preprocess_splits(opts: argparse.Namespace, rest: Sequence[str]) -> int:
    """Every split with pages; PreprocessError when no split has any."""
    empty = {split for split in SPLITS if known_empty(opts.data_path, split)}
    done = 0
    for split in SPLITS:
        # with no pages anywhere the pipeline runs anyway, so a wrong flag is reported first
        if split in empty and not opts.dry_run and len(empty) < len(SPLITS):
            warn_skipped(opts, split)
            continue
        done += preprocess_split(opts, split, rest)
    if not done:
        raise PreprocessError(
            f"no pages in any split of {opts.data_path}; run ./generate-data.sh or "
            "./generate-sample-data.sh first"
        )
    return done


def main(argv: Sequence[str] | None = None) -> int:
    opts, rest = get_args_parser().parse_known_args(argv)
    pipeline.configure_logging()
    try:
        preprocess_splits(opts, rest)
    except (PreprocessError, FolderLockedError) as error:
        return cli.report_error(error)
    except KeyboardInterrupt:
        return cli.report_interrupted("the split being written was left as it was before")
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
