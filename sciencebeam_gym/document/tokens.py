"""Token files: a page's words in reading order with the class each was given, one file per page.

Written beside the page PNGs by generate-data (classes from the alignment with the JATS) and by
the sample corpus with `--format pdf` (classes from its layout); read by the word labeller.

    <data>/<split>/<group>/<doc_id>/<doc_id>-page<N>.tokens.json

The schema (`TOKENS_SCHEMA`, version `TOKENS_VERSION`) is one JSON object whose word fields are
columns of equal length (one `json.loads`, no per-word objects to parse):

    schema, version   "sciencebeam-gym/tokens", 1 (a reader refuses another version, naming it)
    doc_id, page      the document and the 1-based page number
    pages             how many pages the document has
    group             the document's group (source or publisher), as in the folder name
    width, height     the page in PDF points; boxes are points from the top-left corner
    rotation          the page's /Rotate in degrees: its PNG shows it turned that much clockwise
    fonts             [[name, bold, italic], ...]: the fonts the `font` column points into
    words:
      text            the word as the text layer reads it, raised glyphs included
      box             [x0, top, x1, bottom]: its glyphs across, its line's full height down
      size            the median full height of its glyphs (grows with the font size)
      font            index into `fonts`
      runs            null for a word of normal glyphs, else [[text, raised], ...]
      line, block     the text-layer line and the block (document.words) it belongs to
      label           its class (a colour-map label), or "unknown" where no field claims it
      instance        the field instance (one JATS element: an affiliation, a reference) it
                      belongs to, numbered on the page; -1 for none or not known

A page whose word count passes `MAX_PAGE_TOKENS` is cut to that many words (`truncated` gives how
many it had): hundreds of thousands of "words" are a chart's or a map's glyphs, not text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sciencebeam_gym.color_map import UNKNOWN_LABEL
from sciencebeam_gym.document.text_layer import Font
from sciencebeam_gym.document.words import PageWord
from sciencebeam_gym.storage import fs

TOKENS_SCHEMA = "sciencebeam-gym/tokens"
TOKENS_VERSION = 1
TOKENS_SUFFIX = ".tokens.json"
MAX_PAGE_TOKENS = 20_000
NO_INSTANCE = -1
_COLUMNS = ("text", "box", "size", "font", "runs", "line", "block", "label", "instance")


class TokenFileError(ValueError):
    """A token file that cannot be read; the message names the file and what to do."""


@dataclass
class PageTokens:
    """One page's words with their classes (`PageWord.label`) and field instances."""

    doc_id: str
    page: int
    width: float
    height: float
    words: list[PageWord]
    instances: list[int] = field(default_factory=list)
    group: str = ""
    pages: int = 1  # the document's page count
    rotation: int = 0
    truncated: int = 0  # the page's word count when it was cut to MAX_PAGE_TOKENS, else 0
    path: str = ""  # the file it was read from

    @property
    def labels(self) -> list[str]:
        return [w.label or UNKNOWN_LABEL for w in self.words]


def tokens_path(base: str) -> str:
    """The token file of a page whose PNG is `<base>.png`."""
    return f"{base}{TOKENS_SUFFIX}"


def page_base(path: str) -> str:
    """`<base>` of a token file `<base>.tokens.json` (its page PNG is `<base>.png`)."""
    return path[: -len(TOKENS_SUFFIX)] if path.endswith(TOKENS_SUFFIX) else path


def capped(tokens: PageTokens) -> PageTokens:
    """The page cut to `MAX_PAGE_TOKENS` words, with `truncated` set when it was cut."""
    if len(tokens.words) <= MAX_PAGE_TOKENS:
        return tokens
    tokens.truncated = len(tokens.words)
    tokens.words = tokens.words[:MAX_PAGE_TOKENS]
    tokens.instances = tokens.instances[:MAX_PAGE_TOKENS]
    return tokens


def encode_tokens(tokens: PageTokens) -> bytes:
    """The token file's bytes (compact JSON, UTF-8)."""
    fonts: dict[Font, int] = {}
    for word in tokens.words:
        fonts.setdefault(word.font, len(fonts))
    instances = tokens.instances or [NO_INSTANCE] * len(tokens.words)
    words = tokens.words
    columns = {
        "text": [w.text for w in words],
        "box": [[round(v, 2) for v in w.box] for w in words],
        "size": [round(w.size, 2) for w in words],
        "font": [fonts[w.font] for w in words],
        "runs": [[list(r) for r in w.runs] if w.raised else None for w in words],
        "line": [w.line for w in words],
        "block": [w.block for w in words],
        "label": [w.label or UNKNOWN_LABEL for w in words],
        "instance": list(instances),
    }
    document = {
        "schema": TOKENS_SCHEMA,
        "version": TOKENS_VERSION,
        "doc_id": tokens.doc_id,
        "page": tokens.page,
        "pages": tokens.pages,
        "group": tokens.group,
        "width": round(tokens.width, 2),
        "height": round(tokens.height, 2),
        "rotation": tokens.rotation,
        "truncated": tokens.truncated,
        "fonts": [[f.name, f.bold, f.italic] for f in fonts],
        "words": columns,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_tokens(data: bytes, path: str = "<tokens>") -> PageTokens:
    """A page's tokens from a token file's bytes; TokenFileError naming `path` when they are
    not a token file of this version."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise TokenFileError(f"{path}: not a token file ({error})") from error
    if not isinstance(document, dict) or document.get("schema") != TOKENS_SCHEMA:
        raise TokenFileError(f"{path}: not a token file (no schema {TOKENS_SCHEMA!r})")
    version = document.get("version")
    if version != TOKENS_VERSION:
        raise TokenFileError(
            f"{path}: token file schema version {version}, this toolkit reads version "
            f"{TOKENS_VERSION}; write the token files again (./generate-data.sh, or "
            "./generate-sample-data.sh --format pdf)"
        )
    try:
        return _page_tokens(document, path)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise TokenFileError(f"{path}: a damaged token file ({error!r}); write it again") from error


def _page_tokens(document: dict, path: str) -> PageTokens:
    columns = document["words"]
    lengths = {len(columns[name]) for name in _COLUMNS}
    if len(lengths) != 1:
        raise ValueError(f"word columns of different lengths {sorted(lengths)}")
    fonts = [Font(str(name), bool(bold), bool(italic)) for name, bold, italic in document["fonts"]]
    words = []
    for text, box, size, font, runs, line, block, label in zip(
        *(columns[name] for name in _COLUMNS[:-1]), strict=True
    ):
        word_runs = tuple((t, bool(r)) for t, r in runs) if runs else ((text, False),)
        label = "" if label == UNKNOWN_LABEL else label
        words.append(PageWord(text, tuple(box), line, word_runs, fonts[font], size, block, label))
    return PageTokens(
        doc_id=document["doc_id"],
        page=int(document["page"]),
        width=float(document["width"]),
        height=float(document["height"]),
        words=words,
        instances=[int(i) for i in columns["instance"]],
        group=document.get("group", ""),
        pages=int(document["pages"]),
        rotation=int(document.get("rotation", 0)),
        truncated=int(document.get("truncated", 0)),
        path=path,
    )


def write_tokens(path: str, tokens: PageTokens) -> None:
    """Write a token file (atomically, local or gs://)."""
    fs.write_bytes(path, encode_tokens(tokens))


def read_tokens(path: str) -> PageTokens:
    """Read a token file; TokenFileError naming it when it cannot be read or is not one."""
    try:
        data = fs.read_bytes(path)
    except Exception as error:  # noqa: BLE001 - missing, a folder, no permission: one message
        raise TokenFileError(f"{path}: cannot be read ({error})") from error
    return decode_tokens(data, path)


def find_token_files(pattern: str) -> list[str]:
    """The token files a glob names (a folder: every token file under it), sorted."""
    if not any(c in pattern for c in "*?[") and not pattern.endswith(TOKENS_SUFFIX):
        pattern = fs.join(pattern.rstrip("/"), "**", f"*{TOKENS_SUFFIX}")
    return sorted(p for p in fs.glob(pattern) if p.endswith(TOKENS_SUFFIX))
