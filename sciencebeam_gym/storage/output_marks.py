"""The mark on the files a run writes beside a user's own, so that a later run replaces its own
outputs and never a file someone else wrote (the publisher's `x.xml` beside `x.pdf`, a page
image named like an output).

    data = mark_xml(element)                  # `<?sciencebeam-gym extract?>` after the declaration
    foreign = unmarked_files(targets)         # the targets that exist and carry no mark

The mark sits in the first bytes of each format: a processing instruction in XML, the first key
of a JSON object, a PNG text chunk before the pixels. Readers ignore all three.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from sciencebeam_gym.storage import fs

GENERATOR = "sciencebeam-gym"
JSON_KEY = "generator"
PNG_KEY = "Software"
# The mark is written within this many bytes of a file's start (PNG: after the 33-byte header).
HEAD_BYTES = 4096


def mark_text(stage: str) -> str:
    return f"{GENERATOR} {stage}"


def mark_xml(element, stage: str) -> bytes:
    """An lxml element as a UTF-8 document, the mark right after the XML declaration."""
    from lxml import etree

    element.addprevious(etree.ProcessingInstruction(GENERATOR, stage))
    return etree.tostring(
        element.getroottree(), xml_declaration=True, encoding="utf-8", pretty_print=True
    )


def mark_json(body: dict, stage: str) -> dict:
    """The JSON object with the mark as its first key."""
    return {JSON_KEY: mark_text(stage), **body}


def png_info(stage: str):
    """PIL's PngInfo carrying the mark (pass as `pnginfo=` to Image.save)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(PNG_KEY, mark_text(stage))
    return info


def is_marked(head: bytes) -> bool:
    """Whether a file's first bytes carry the mark."""
    return GENERATOR.encode("ascii") in head[:HEAD_BYTES]


def read_head(path: str) -> bytes:
    """The first HEAD_BYTES of a file (all of a remote one)."""
    if fs.is_remote(path):
        return fs.read_bytes(path)[:HEAD_BYTES]
    with open(path, "rb") as file:
        return file.read(HEAD_BYTES)


def existing(paths: Iterable[str], folder: str = "") -> list[str]:
    """The paths that exist: locally each is looked up; remote ones by one listing of `folder`."""
    paths = list(paths)
    remote = [p for p in paths if fs.is_remote(p)]
    found = [p for p in paths if not fs.is_remote(p) and os.path.lexists(p)]
    if remote:
        listed = (
            set(fs.glob(fs.join(fs.escape_glob(folder.rstrip("/")), "**"))) if folder else set()
        )
        found += [p for p in remote if p in listed or (not folder and fs.exists(p))]
    return found


def unmarked_files(paths: Iterable[str], folder: str = "") -> list[str]:
    """The paths that exist and were not written by the toolkit: no mark, unreadable, or not a
    regular file (a folder, a FIFO: opening one would wait)."""
    foreign = []
    for path in existing(paths, folder):
        try:
            if not (fs.is_remote(path) or os.path.isfile(path)) or not is_marked(read_head(path)):
                foreign.append(path)
        except OSError:
            foreign.append(path)
    return foreign
