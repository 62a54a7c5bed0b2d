"""The fields that are scored, read from a JATS article (the publisher's or an extracted one).

The XPaths are those of `xml-mapping.conf`, which generate-data also paints from, so a field means
the same thing in training and in evaluation; only the `group` option is dropped (authors are
scored as a list of names) and element labels (`<label>1</label>` of an affiliation or a
reference), e-mail addresses (`<email>`) and institution identifiers (`<institution-id>`) are
left out of the text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lxml import etree

from sciencebeam_gym import class_labels as labels
from sciencebeam_gym.document.jats import extract_fields, parse_article
from sciencebeam_gym.document.xml_mapping import (
    XmlMapping,
    default_xml_mapping_path,
    load_xml_mapping,
)

# Scored field -> class label of the mapping whose XPaths select it.
FIELD_LABELS = {
    "title": labels.MANUSCRIPT_TITLE,
    "abstract": labels.ABSTRACT,
    "authors": labels.AUTHOR,
    "affiliations": labels.AUTHOR_AFF,
    "keywords": labels.KEYWORDS,
    "section_titles": labels.SECTION_TITLE,
    "references": labels.REFERENCE,
}
TEXT_FIELDS = ("title", "abstract", "first_author")
# Lists whose repeats mean nothing (an author named twice is one author) are compared as sets.
SET_FIELDS = ("authors", "affiliations", "keywords")
LIST_FIELDS = ("authors", "affiliations", "keywords", "section_titles", "references")
FIELDS = ("title", "abstract", "authors", "first_author", *LIST_FIELDS[1:])
# Left out of every scored text: labels ("1" of an affiliation), e-mail addresses (contact
# details some publishers write inside <aff>; the extraction leaves them out of affiliations)
# and institution identifiers (`<institution-id>`: a GRID or Ringgold id inside an affiliation's
# <institution-wrap>, which BMC's and Springer's XML carry and no page prints).
SKIPPED_ELEMENTS = frozenset({"label", "email", "institution-id"})


@dataclass(frozen=True)
class ArticleFields:
    """The scored fields of one article; texts are whitespace-collapsed, lists in document order."""

    title: str = ""
    abstract: str = ""
    authors: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    section_titles: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def first_author(self) -> str:
        return self.authors[0] if self.authors else ""

    def text(self, field: str) -> str:
        return getattr(self, field)

    def items(self, field: str) -> tuple[str, ...]:
        return getattr(self, field)


def evaluation_mapping(mapping: XmlMapping) -> XmlMapping:
    """The rules of the scored fields, ungrouped, with element labels left out of texts."""
    labels = set(FIELD_LABELS.values())
    rules = tuple(
        dataclasses.replace(rule, options=rule.options - {"group"})
        for rule in mapping.rules
        if rule.label in labels
    )
    missing = labels - {rule.label for rule in rules}
    if missing:
        raise ValueError(
            f"{mapping.source}: no [fields] line for {sorted(missing)}, which the field "
            "evaluation reads; restore them from xml-mapping.conf"
        )
    return dataclasses.replace(mapping, rules=rules, skip=mapping.skip | SKIPPED_ELEMENTS)


def load_evaluation_mapping(path: str | None = None) -> XmlMapping:
    """`evaluation_mapping` of a mapping file (default: xml-mapping.conf)."""
    return evaluation_mapping(load_xml_mapping(path or default_xml_mapping_path()))


def read_fields(article: etree._Element, mapping: XmlMapping) -> ArticleFields:
    """The scored fields of a parsed <article> (namespaces removed, as parse_article gives)."""
    texts: dict[str, list[str]] = {label: [] for label in FIELD_LABELS.values()}
    for found in extract_fields(article, mapping):
        texts[found.label].append(found.text)
    values = {field: texts[label] for field, label in FIELD_LABELS.items()}
    return ArticleFields(
        title=" ".join(values["title"]),
        abstract=" ".join(values["abstract"]),
        **{field: tuple(values[field]) for field in LIST_FIELDS},
    )


def read_fields_from_bytes(data: bytes, mapping: XmlMapping) -> ArticleFields:
    """The scored fields of JATS bytes (optionally gzip); XmlError if they do not parse."""
    return read_fields(parse_article(data), mapping)


def read_fields_from_element(element: etree._Element, mapping: XmlMapping) -> ArticleFields:
    """The scored fields of an lxml element (e.g. an extraction's JATS), read as a file would be."""
    return read_fields_from_bytes(etree.tostring(element, encoding="utf-8"), mapping)
