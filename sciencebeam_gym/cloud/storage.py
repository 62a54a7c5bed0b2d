"""Copy local files and folders to Cloud Storage: parallel, checksummed, safe to re-run.

    python -m sciencebeam_gym.cloud.storage upload color_map.conf gs://my-project-ml/sciencebeam/pix2pix/v4/config/
    python -m sciencebeam_gym.cloud.storage upload-data .models/pix2pix/v4/data gs://my-project-ml/.../data/

A folder `dir` is copied to `DEST/<name of dir>/...`, a file to `DEST/<file name>`. Objects already
there with the same CRC32C checksum are skipped, so an interrupted upload is finished by running
the same command again. Each object is sent with the checksum computed before sending; Cloud
Storage refuses it when the bytes differ (the file changed while it was read), and no object is
created. With STORAGE_EMULATOR_HOST set, everything goes to that emulator instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from sciencebeam_gym import cli, fs
from sciencebeam_gym.data_layout import SPLITS

# The paths, the client and the hints live in sciencebeam_gym.gcs (the trainer uses them too);
# the names stay importable from here for the cloud commands.
from sciencebeam_gym.gcs import (  # noqa: F401
    DEFAULT_WORKERS,
    EMULATOR_ENV_VAR,
    FileChangedError,
    LocalFile,
    Progress,
    StorageError,
    UploadItem,
    UploadResult,
    check_bucket_exists,
    describe_missing,
    explain_no_match,
    format_bytes,
    join_object_name,
    list_children,
    make_client,
    parse_gcs_url,
    snapshot_file,
    upload_items,
    upload_snapshot,
)

EXIT_USER_ERROR = cli.EXIT_USAGE
EXIT_FAILED = cli.EXIT_FAILED


# --- planning: which local file goes to which object -------------------------------------------


def plan_uploads(sources: Sequence[str], destination: str) -> list[UploadItem]:
    """Map files and folders to objects under the destination folder (hidden files skipped)."""
    bucket, prefix = parse_gcs_url(destination)
    items = []
    for source in sources:
        source = source.rstrip("/") or "/"
        if os.path.isfile(source):
            name = join_object_name(prefix, os.path.basename(source))
            items.append(UploadItem(source, bucket, name))
        elif os.path.isdir(source):
            items.extend(_plan_folder(source, bucket, prefix))
        else:
            raise StorageError(f"{source} does not exist (nothing to upload)")
    return sorted(items, key=lambda item: item.object_name)


def _plan_folder(folder: str, bucket: str, prefix: str) -> list[UploadItem]:
    base = os.path.basename(os.path.abspath(folder))
    return [
        UploadItem(
            os.path.join(folder, *relative.split("/")),
            bucket,
            join_object_name(prefix, base, relative),
        )
        for relative in fs.list_tree(folder)
        if not any(part.startswith(".") for part in relative.split("/"))
    ]


def upload(
    sources: Sequence[str],
    destination: str,
    workers: int = DEFAULT_WORKERS,
    project: str | None = None,
) -> UploadResult:
    items = plan_uploads(sources, destination)
    make_client(project)  # fails early on missing extras or credentials
    print(f"upload: {len(items)} files -> {destination}", file=sys.stderr, flush=True)
    return upload_items(items, lambda: make_client(project), workers=workers)


def check_data_folder(data_dir: str) -> list[str]:
    """The train/ and test/ folders of a data folder; StorageError naming the one missing."""
    folders = []
    for name in SPLITS:
        path = os.path.join(data_dir, name)
        if not os.path.isdir(path):
            raise StorageError(
                f"no {name}/ folder in {data_dir} (expected {data_dir}/train and {data_dir}/test; "
                "create them with ./generate-sample-data.sh or ./generate-data.sh, "
                "or pass the data folder: ./upload-data.sh DIR)"
            )
        folders.append(path)
    return folders


# --- command line --------------------------------------------------------------------------------


def build_parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.cloud.storage",
        description=(
            "Copy files and folders to Cloud Storage: parallel, skipping objects already there "
            "with the same checksum (re-run to finish an interrupted upload)."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upload", help="copy files/folders into a gs:// folder")
    up.add_argument("sources", nargs="+", help="local files or folders")
    up.add_argument("destination", help="gs://BUCKET/FOLDER/ (a folder copies to FOLDER/<name>/)")
    data = sub.add_parser("upload-data", help="copy DATA_DIR/train and DATA_DIR/test")
    data.add_argument("data_dir", help="local data folder holding train/ and test/")
    data.add_argument("destination", help="gs://BUCKET/.../data/")
    for p in (up, data):
        p.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="parallel uploads")
        p.add_argument("--project", default=None, help="Google Cloud project (default $PROJECT)")
    return parser


def report(result: UploadResult, destination: str) -> int:
    print(
        f"upload: {len(result.uploaded)} uploaded ({format_bytes(result.bytes_sent)}), "
        f"{len(result.skipped)} already there with the same checksum, "
        f"{len(result.failed)} failed -> {destination}",
        file=sys.stderr,
    )
    for name, message in sorted(result.failed.items()):
        print(f"  failed: {name}: {message}", file=sys.stderr)
    if result.failed:
        print("  run the same command again to retry; finished files are skipped", file=sys.stderr)
        return EXIT_FAILED
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "upload-data":
            sources = check_data_folder(args.data_dir)
        else:
            sources = args.sources
        result = upload(sources, args.destination, workers=args.workers, project=args.project)
    except StorageError as e:
        return cli.report_error(e, EXIT_USER_ERROR)
    except KeyboardInterrupt:
        return cli.report_interrupted(
            "run the same command again to finish (files already there are skipped)"
        )
    return report(result, args.destination)


if __name__ == "__main__":
    sys.exit(main())
