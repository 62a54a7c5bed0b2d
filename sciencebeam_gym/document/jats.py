"""JATS / NLM XML: parse safely (no DTD, no network) and pull out the fields of the mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from sciencebeam_gym.document import limits
from sciencebeam_gym.document.errors import SkipError
from sciencebeam_gym.document.limits import CORRUPT_GZIP, TOO_LARGE, LimitError, gunzip_capped
from sciencebeam_gym.document.text import collapse_whitespace
from sciencebeam_gym.document.xml_mapping import XmlMapping

XML_DOES_NOT_PARSE = "XML does not parse"


class XmlError(SkipError):
    """XML that cannot be used; `reason` is a short, report-friendly cause."""


@dataclass(frozen=True)
class Field:
    """One block of XML text to find on the page, with its class label and options."""

    label: str
    text: str
    index: int  # position among the fields of the same label, in document order
    options: frozenset[str] = frozenset()


def _parser() -> etree.XMLParser:
    # Never load or fetch DTDs, never expand external entities: publishers' DOCTYPEs point at
    # URLs and files that are not here.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        huge_tree=True,
    )


def parse_article(data: bytes) -> etree._Element:
    """The <article> element of JATS bytes (optionally gzip); XmlError if it does not parse."""
    if not data or not data.strip():
        raise XmlError(XML_DOES_NOT_PARSE, "the file is empty")
    try:
        data = gunzip_capped(data, limits.MAX_XML_BYTES, "the XML")
    except LimitError as error:
        reason = XML_DOES_NOT_PARSE if error.reason == CORRUPT_GZIP else error.reason
        raise XmlError(reason, error.detail) from error
    if len(data) > limits.MAX_XML_BYTES:
        raise XmlError(TOO_LARGE, f"{len(data)} bytes, beyond the cap of {limits.MAX_XML_BYTES}")
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, OSError, EOFError, ValueError) as error:
        raise XmlError(XML_DOES_NOT_PARSE, str(error)) from error
    _strip_namespaces(root)
    article = root if root.tag == "article" else root.find(".//article")
    if article is None:
        raise XmlError("XML has no matching fields", f"no <article> element (root <{root.tag}>)")
    return article


def _strip_namespaces(root: etree._Element) -> None:
    """Drop namespaces from element names, so mapping XPaths stay simple."""
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = etree.QName(element).localname
    etree.cleanup_namespaces(root)


def drop_elements(article: etree._Element, names: tuple[str, ...]) -> None:
    """Remove elements (with their content) such as referee sub-articles."""
    for name in names:
        for element in list(article.iter(name)):
            if element is not article and element.getparent() is not None:
                _remove_keeping_tail(element)


def _remove_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def element_text(
    element: etree._Element, inline: frozenset[str], skip: frozenset[str] = frozenset()
) -> str:
    """Text of an element: block-level children separated by spaces, inline ones joined."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in _display_order(node):
            if isinstance(child.tag, str):
                if child.tag not in skip:
                    separator = "" if child.tag in inline else " "
                    parts.append(separator)
                    walk(child)
                    parts.append(separator)
            else:
                parts.append(" ")  # an unexpanded entity such as &nbsp;
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return collapse_whitespace("".join(parts))


def _display_order(node: etree._Element) -> list[etree._Element]:
    """Children in the order a page shows them: a <name> prints given names before the surname."""
    children = list(node)
    if node.tag in ("name", "string-name"):
        given = [c for c in children if c.tag == "given-names"]
        return given + [c for c in children if c.tag != "given-names"]
    return children


def _select(article: etree._Element, xpath: str) -> list[etree._Element | str]:
    result = article.xpath(xpath)
    if isinstance(result, list):
        return [r for r in result if isinstance(r, (etree._Element, str))]
    if isinstance(result, str):
        return [result] if result.strip() else []
    return []


CONTAINER_SEPARATOR = " :: "


def _texts_for(article: etree._Element, xpath: str, mapping: XmlMapping) -> list[str]:
    """Texts an XPath selects; `container :: parts` gives one text per container, its parts
    (selected relative to it) joined in document order, e.g. `.//fig :: label | caption/title`."""
    if CONTAINER_SEPARATOR in xpath:
        container_xpath, part_xpath = xpath.split(CONTAINER_SEPARATOR, 1)
        texts = []
        for container in _select(article, container_xpath):
            if isinstance(container, str):
                continue
            parts = _texts_for(container, part_xpath, mapping)
            texts.append(" ".join(parts))
        return [text for text in texts if text]
    texts = [
        collapse_whitespace(item)
        if isinstance(item, str)
        else element_text(item, mapping.inline, mapping.skip)
        for item in _select(article, xpath)
    ]
    return [text for text in texts if text]


def extract_fields(article: etree._Element, mapping: XmlMapping) -> list[Field]:
    """The fields of the mapping found in the article, in mapping order."""
    drop_elements(article, mapping.drop)
    fields: list[Field] = []
    for rule in mapping.rules:
        texts: list[str] = []
        for xpath in rule.xpaths:
            texts = _texts_for(article, xpath, mapping)
            if texts:
                break
        if "group" in rule.options and texts:
            texts = [" ".join(texts)]
        fields.extend(
            Field(rule.label, text, index, rule.options) for index, text in enumerate(texts)
        )
    return fields


# Corporate words left out of a publisher's group name ("Hindawi Publishing Corporation": hindawi).
_CORPORATE_WORDS = {"the", "publishing", "publishers", "corporation", "media", "sa", "ltd", "inc"}


def publisher_group(xml_bytes: bytes) -> str | None:
    """A folder name for the article's publisher (`journal-meta/publisher/publisher-name`),
    corporate words left out: "Frontiers Media S.A." -> frontiers; None when there is none."""
    try:
        article = parse_article(xml_bytes)
    except XmlError:
        return None
    names = article.xpath(".//journal-meta//publisher-name")
    if not names:
        return None
    words = re.findall(r"[a-z0-9]+", "".join(names[0].itertext()).lower().replace(".", ""))
    kept = [word for word in words if word not in _CORPORATE_WORDS]
    return "-".join(kept or words) or None
