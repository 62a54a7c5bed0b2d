"""The extracted article: its fields as plain data, written as JATS XML or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from lxml import etree

JATS_DTD_VERSION = "1.3"


@dataclass
class Author:
    """One author: the name as printed, and its parts when they can be told apart."""

    text: str
    given_names: str = ""
    surname: str = ""


@dataclass
class Affiliation:
    text: str
    label: str = ""


@dataclass
class Section:
    title: str = ""
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class Region:
    """A painted region of a page without text (scanned pages): class, page, box in points."""

    label: str
    page: int
    box: tuple[float, float, float, float]


@dataclass
class ExtractedArticle:
    """What the extraction found in one PDF; empty fields were not found."""

    source: str = ""
    title: str = ""
    authors: list[Author] = field(default_factory=list)
    affiliations: list[Affiliation] = field(default_factory=list)
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    pages: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_jats(self) -> etree._Element:
        """The article as a JATS `<article>` element (front, body, back)."""
        article = etree.Element("article", {"article-type": "research-article"})
        article.set("dtd-version", JATS_DTD_VERSION)
        article.append(self._front())
        article.append(self._body())
        article.append(self._back())
        return article

    def to_jats_bytes(self) -> bytes:
        return etree.tostring(
            self.to_jats(), xml_declaration=True, encoding="utf-8", pretty_print=True
        )

    def _front(self) -> etree._Element:
        front = etree.Element("front")
        meta = _sub(front, "article-meta")
        _sub(_sub(meta, "title-group"), "article-title", self.title)
        group = _sub(meta, "contrib-group")
        for author in self.authors:
            _sub(group, "contrib", attrib={"contrib-type": "author"}).append(_name(author))
        for index, affiliation in enumerate(self.affiliations, start=1):
            aff = _sub(meta, "aff", attrib={"id": f"aff{index}"})
            if affiliation.label:
                _sub(aff, "label", affiliation.label).tail = " " + affiliation.text
            else:
                aff.text = affiliation.text
        if self.abstract:
            _sub(_sub(meta, "abstract"), "p", self.abstract)
        if self.keywords:
            kwd_group = _sub(meta, "kwd-group")
            for keyword in self.keywords:
                _sub(kwd_group, "kwd", keyword)
        if self.regions:
            meta.append(_regions(self.regions))
        return front

    def _body(self) -> etree._Element:
        body = etree.Element("body")
        for section in self.sections:
            sec = _sub(body, "sec")
            _sub(sec, "title", section.title)
            for paragraph in section.paragraphs:
                _sub(sec, "p", paragraph)
        return body

    def _back(self) -> etree._Element:
        back = etree.Element("back")
        if self.references:
            ref_list = _sub(back, "ref-list")
            for index, reference in enumerate(self.references, start=1):
                ref = _sub(ref_list, "ref", attrib={"id": f"ref{index}"})
                _sub(ref, "mixed-citation", reference)
        return back


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, attrib: dict | None = None
) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib or {})
    if text:
        element.text = text
    return element


def _name(author: Author) -> etree._Element:
    """`<name>`: surname and given names; the whole name as surname when they cannot be told apart."""
    name = etree.Element("name")
    _sub(name, "surname", author.surname or author.text)
    if author.surname and author.given_names:
        _sub(name, "given-names", author.given_names)
    return name


def _regions(regions: list[Region]) -> etree._Element:
    """Painted regions of pages without text, as custom metadata (JATS has no place for boxes)."""
    group = etree.Element("custom-meta-group")
    for region in regions:
        meta = _sub(group, "custom-meta", attrib={"specific-use": "painted-region"})
        _sub(meta, "meta-name", f"{region.label} page {region.page}")
        _sub(meta, "meta-value", " ".join(f"{v:.1f}" for v in region.box))
    return group
