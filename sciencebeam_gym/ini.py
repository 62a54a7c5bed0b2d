"""The INI-like reader behind the toolkit's `.conf` files (`color_map.conf`, `xml-mapping.conf`).

Written here rather than with `configparser` because errors must name the line, a key may
repeat within a section (the XML mapping's fallbacks) and keys keep their case; configparser
gives none of the three.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_SECTION_RE = re.compile(r"^\[\s*([^\]]+?)\s*\]$")


class IniError(ValueError):
    """A line that is not `key = value`, `[section]`, a comment or blank; names the line."""


def read_conf_bytes(
    path: str, what: str, advice: str, error_type: type[Exception] = IniError
) -> bytes:
    """The bytes of a local or gs:// `.conf` file; `error_type` naming `what` and `advice` if not."""
    from sciencebeam_gym.storage import fs

    try:
        return fs.read_bytes(path)
    except Exception as error:  # noqa: BLE001 - any read failure gets the same advice
        raise error_type(f"cannot read {what} {path}: {error} ({advice})") from error


@dataclass(frozen=True)
class IniEntry:
    """One `key = value` line, with its section (lower case) and where it is."""

    section: str
    key: str
    value: str
    line_number: int
    where: str  # "file:line", for error messages


def iter_entries(
    text: str, source: str, sections: tuple[str, ...] | None = None
) -> Iterator[IniEntry]:
    """The entries of INI text in file order; `sections` (if given) are the only ones allowed."""
    section = None
    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{source}:{line_number}"
        if not line or line.startswith(("#", ";")):
            continue
        match = _SECTION_RE.match(line)
        if match:
            section = match.group(1).strip().lower()
            if sections is not None and section not in sections:
                allowed = ", ".join(f"[{name}]" for name in sections)
                raise IniError(f"{where}: unknown section [{section}] (use {allowed})")
            continue
        if "=" not in line:
            raise IniError(f"{where}: expected 'key = value' or '[section]', got {raw!r}")
        if section is None:
            raise IniError(f"{where}: '{line}' comes before any [section]")
        key, value = (part.strip() for part in line.split("=", 1))
        yield IniEntry(section, key, value, line_number, where)
