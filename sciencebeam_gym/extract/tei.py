"""The extracted article as TEI XML in the shape GROBID writes, so GROBID's users can read it.

    tei = article_to_tei(article)                    # lxml <TEI> element
    data = article_to_tei_bytes(article, header_only=True)

Where each field goes (GROBID's places):

| field | TEI |
| --- | --- |
| title | `teiHeader/fileDesc/titleStmt/title[@level='a'][@type='main']`, again in `analytic` |
| authors | `.../sourceDesc/biblStruct/analytic/author/persName` (`forename type="first"`, `type="middle"`, `surname`) |
| affiliations | `author/affiliation[@key]` with the printed text in `note[@type='raw_affiliation']` |
| abstract, keywords | `teiHeader/profileDesc/abstract/div/p`, `profileDesc/textClass/keywords/term` |
| sections | `text/body/div` (`head`, `p`) |
| references | `text/back/div[@type='references']/listBibl/biblStruct/note[@type='raw_reference']` |

The extraction does not link authors to their affiliations, so every author carries every
affiliation, as GROBID does for a header that prints no affiliation marks.
"""

from __future__ import annotations

from lxml import etree

from sciencebeam_gym import __version__
from sciencebeam_gym.extract.article import Author, ExtractedArticle

TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"
APPLICATION = "sciencebeam-gym"


def _tag(name: str) -> str:
    return f"{{{TEI_NS}}}{name}"


def _sub(parent, name: str, text: str = "", **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, _tag(name), attrib)
    if text:
        element.text = text
    return element


def article_to_tei(article: ExtractedArticle, header_only: bool = False) -> etree._Element:
    """`<TEI>`: the header (title, authors, affiliations, abstract, keywords) and, unless
    `header_only` (GROBID's processHeaderDocument), the body sections and the references."""
    tei = etree.Element(_tag("TEI"), nsmap={None: TEI_NS})
    tei.append(_header(article))
    text = _sub(tei, "text")
    text.set(f"{{{XML_NS}}}lang", "en")
    if not header_only:
        text.append(_body(article))
        text.append(_back(article))
    return tei


def article_to_tei_bytes(article: ExtractedArticle, header_only: bool = False) -> bytes:
    return etree.tostring(
        article_to_tei(article, header_only),
        xml_declaration=True,
        encoding="utf-8",
        pretty_print=True,
    )


def _header(article: ExtractedArticle) -> etree._Element:
    header = etree.Element(_tag("teiHeader"))
    header.set(f"{{{XML_NS}}}lang", "en")
    file_desc = _sub(header, "fileDesc")
    _sub(_sub(file_desc, "titleStmt"), "title", article.title, level="a", type="main")
    publication = _sub(file_desc, "publicationStmt")
    _sub(publication, "publisher")
    _sub(_sub(publication, "availability", status="unknown"), "licence")
    bibl = _sub(_sub(file_desc, "sourceDesc"), "biblStruct")
    analytic = _sub(bibl, "analytic")
    for author in article.authors:
        element = _sub(analytic, "author")
        element.append(_pers_name(author))
        for index, affiliation in enumerate(article.affiliations):
            element.append(_affiliation(index, affiliation.label, affiliation.text))
    _sub(analytic, "title", article.title, level="a", type="main")
    _sub(_sub(bibl, "monogr"), "imprint")
    app_info = _sub(_sub(header, "encodingDesc"), "appInfo")
    _sub(app_info, "application", ident=APPLICATION, version=__version__)
    profile = _sub(header, "profileDesc")
    if article.keywords:
        keywords = _sub(_sub(profile, "textClass"), "keywords")
        for keyword in article.keywords:
            _sub(keywords, "term", keyword)
    abstract = _sub(profile, "abstract")
    if article.abstract:
        _sub(_sub(abstract, "div"), "p", article.abstract)
    return header


def _pers_name(author: Author) -> etree._Element:
    """`persName`: the first given name as `forename type="first"`, the others as "middle";
    the whole name as `surname` when it could not be split (as the JATS writer does)."""
    name = etree.Element(_tag("persName"))
    given = author.given_names.split() if author.surname else []
    for index, part in enumerate(given):
        _sub(name, "forename", part, type="first" if index == 0 else "middle")
    _sub(name, "surname", author.surname or author.text)
    return name


def _affiliation(index: int, label: str, text: str) -> etree._Element:
    affiliation = etree.Element(_tag("affiliation"), {"key": f"aff{index}"})
    note = _sub(affiliation, "note", type="raw_affiliation")
    if label:
        _sub(note, "label", label).tail = " " + text
    else:
        note.text = text
    return affiliation


def _body(article: ExtractedArticle) -> etree._Element:
    body = etree.Element(_tag("body"))
    for section in article.sections:
        div = _sub(body, "div")
        if section.title:
            _sub(div, "head", section.title)
        for paragraph in section.paragraphs:
            _sub(div, "p", paragraph)
    return body


def _back(article: ExtractedArticle) -> etree._Element:
    back = etree.Element(_tag("back"))
    bibl_list = _sub(_sub(back, "div", type="references"), "listBibl")
    for index, reference in enumerate(article.references):
        bibl = _sub(bibl_list, "biblStruct")
        bibl.set(f"{{{XML_NS}}}id", f"b{index}")
        _sub(bibl, "note", reference, type="raw_reference")
    return back
