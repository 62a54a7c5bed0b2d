"""Copy local files and folders to Cloud Storage: parallel, checksummed, safe to re-run.

    python -m sciencebeam_gym.cloud.upload upload color_map.conf gs://my-project-ml/sciencebeam/pix2pix/v4/config/
    python -m sciencebeam_gym.cloud.upload upload-data .models/pix2pix/v4/data gs://my-project-ml/.../data/

A folder `dir` is copied to `DEST/<name of dir>/...`, a file to `DEST/<file name>`. Objects already
there with the same CRC32C checksum are skipped, so an interrupted upload is finished by running
the same command again. Each object is sent with the checksum computed before sending; Cloud
Storage refuses it when the bytes differ (the file changed while it was read), and no object is
created. With STORAGE_EMULATOR_HOST set, everything goes to that emulator instead.
The work is done by `sciencebeam_gym.storage.uploads`; this module is its command line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from sciencebeam_gym import cli
from sciencebeam_gym.data_layout import SPLITS
from sciencebeam_gym.storage.errors import StorageError
from sciencebeam_gym.storage.uploads import DEFAULT_WORKERS, UploadResult, format_bytes, upload

EXIT_USER_ERROR = cli.EXIT_USAGE
EXIT_FAILED = cli.EXIT_FAILED


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
        prog="python -m sciencebeam_gym.cloud.upload",
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
