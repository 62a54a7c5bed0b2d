"""Local folders and bucket listings for the storage and upload tests."""

from __future__ import annotations

from tests.conftest import TEST_BUCKET


def write_file(path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_data_dir(root, pages_per_split: int = 3):
    """A data folder in the layout generate-sample-data.sh writes: split/doc/page/*.png."""
    for split in ("train", "test"):
        for i in range(pages_per_split):
            base = root / split / f"doc{i}" / "page1"
            write_file(base / f"doc{i}-page1.png", f"{split} page {i}".encode())
            write_file(base / f"doc{i}-page1.annot.png", f"{split} annot {i}".encode())
    return root


def objects(client, prefix: str = "") -> dict[str, bytes]:
    return {b.name: b.download_as_bytes() for b in client.list_blobs(TEST_BUCKET, prefix=prefix)}


def generations(client, prefix: str = "") -> dict[str, int]:
    return {b.name: b.generation for b in client.list_blobs(TEST_BUCKET, prefix=prefix)}


def count_objects(client, prefix: str, up_to: int) -> int:
    return sum(1 for _ in client.list_blobs(TEST_BUCKET, prefix=prefix, max_results=up_to))
