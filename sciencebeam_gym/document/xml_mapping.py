"""The XML mapping file (`xml-mapping.conf`): which XML elements are painted with which class.

An INI-like file with three sections::

    [fields]
    # label = XPath, evaluated on <article>; each selected element is one block of text
    manuscript_title = front/article-meta/title-group/article-title
    # a second line for the same label is a fallback, used when the first selects nothing
    keywords_title = front/article-meta/kwd-group/title
    keywords_title = 'Keywords'

    [options]
    author = group

    [xml]
    drop = sub-article response

Labels are class labels of the colour map (`[color_labels]` of `color_map.conf`); keys are looked
up there, never written here. See `doc/generate-data.md` for every option.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from lxml import etree

from sciencebeam_gym import ini

FIELDS_SECTION = "fields"
OPTIONS_SECTION = "options"
XML_SECTION = "xml"

# Options a field may have, with what they mean (shown in errors).
FIELD_OPTIONS = {
    "group": "all selected elements are one block of text (e.g. the author list)",
    "line": "a match must fill whole lines (headings), so a word inside a paragraph is not taken",
    "line_start": "a match must begin a line (a caption's label, not a mention in the text)",
    "margin": "a match must lie in the top or bottom margin of the page (running headers)",
    "page_number": "the text is the first page's number; page N looks for that number + N - 1",
}
XML_SETTINGS = {
    "drop": "elements removed before anything is read (e.g. sub-article: referee reports)",
    "inline": "elements whose text joins its neighbours without a space (italic, sup, xref, ...)",
    "skip": "elements left out of a field's text when nested inside it (fig, table-wrap, ...)",
}

_LABEL_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class FieldRule:
    """One class of the mapping: its label, XPaths (first that selects something) and options."""

    label: str
    xpaths: tuple[str, ...]
    options: frozenset[str] = frozenset()


@dataclass(frozen=True)
class XmlMapping:
    rules: tuple[FieldRule, ...]
    drop: tuple[str, ...] = ()
    inline: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    source: str = "<xml mapping>"

    @property
    def labels(self) -> list[str]:
        return [rule.label for rule in self.rules]

    def check_labels(self, known_labels: list[str]) -> None:
        """MappingError when a label is not a class of the colour map."""
        unknown = [label for label in self.labels if label not in known_labels]
        if unknown:
            raise MappingError(
                f"{self.source}: labels {unknown} are not classes of the colour map "
                f"(known: {', '.join(known_labels)}); fix the label or the colour map"
            )


@dataclass
class _Draft:
    xpaths: list[str] = field(default_factory=list)
    options: set[str] = field(default_factory=set)


def _entries(text: str, source: str):
    try:
        for entry in ini.iter_entries(text, source, (FIELDS_SECTION, OPTIONS_SECTION, XML_SECTION)):
            yield entry.section, entry.key, entry.value, entry.where
    except ini.IniError as error:
        raise MappingError(str(error)) from error


def parse_xml_mapping(text: str, source: str = "<xml mapping>") -> XmlMapping:
    """Parse mapping text; MappingError naming the line for anything wrong."""
    drafts: dict[str, _Draft] = {}
    settings: dict[str, list[str]] = {name: [] for name in XML_SETTINGS}
    for section, key, value, where in _entries(text, source):
        if section == FIELDS_SECTION:
            if not _LABEL_RE.match(key):
                raise MappingError(f"{where}: {key!r} is not a class label")
            if not value:
                raise MappingError(f"{where}: no XPath for {key}")
            try:
                for part in value.split(" :: "):
                    etree.XPath(part)
            except etree.XPathSyntaxError as error:
                raise MappingError(f"{where}: XPath {value!r} does not parse ({error})") from error
            drafts.setdefault(key, _Draft()).xpaths.append(value)
        elif section == OPTIONS_SECTION:
            options = set(value.replace(",", " ").split())
            unknown = options - set(FIELD_OPTIONS)
            if unknown:
                known = "; ".join(f"{k}: {v}" for k, v in FIELD_OPTIONS.items())
                raise MappingError(f"{where}: unknown options {sorted(unknown)} (known: {known})")
            drafts.setdefault(key, _Draft()).options.update(options)
        else:
            if key not in XML_SETTINGS:
                raise MappingError(
                    f"{where}: unknown [xml] setting {key!r} (known: {', '.join(XML_SETTINGS)})"
                )
            settings[key].extend(value.replace(",", " ").split())
    rules = []
    for label, draft in drafts.items():
        if not draft.xpaths:
            raise MappingError(f"{source}: [options] names {label!r}, which has no [fields] line")
        rules.append(FieldRule(label, tuple(draft.xpaths), frozenset(draft.options)))
    if not rules:
        raise MappingError(f"{source}: no [fields] lines; nothing would be painted")
    return XmlMapping(
        rules=tuple(rules),
        drop=tuple(settings["drop"]),
        inline=frozenset(settings["inline"]),
        skip=frozenset(settings["skip"]),
        source=source,
    )


def load_xml_mapping(path: str) -> XmlMapping:
    """Read and parse a mapping file from a local or gs:// path."""
    data = ini.read_conf_bytes(
        path, "XML mapping", "pass --xml_mapping or set XML_MAPPING_PATH", MappingError
    )
    return parse_xml_mapping(data.decode("utf-8", errors="replace"), source=path)


def default_xml_mapping_path() -> str:
    """`xml-mapping.conf` at the repository root, or shipped inside the installed package."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = [
        os.path.join(os.path.dirname(package), "xml-mapping.conf"),
        os.path.join(package, "xml-mapping.conf"),
    ]
    return next((path for path in candidates if os.path.exists(path)), candidates[0])
