"""The article as JATS XML: front (journal, DOI, title, authors, affiliations, abstract, keywords,
permissions), body (sections, figures, tables), back (acknowledgement, references)."""

from __future__ import annotations

from lxml import etree

from sciencebeam_gym.sample_data.article import Article

DOCTYPE = (
    '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Publishing DTD v1.2 20190208//EN"'
    ' "JATS-journalpublishing1.dtd">'
)


def _add(parent, tag: str, text: str | None = None, **attributes):
    element = etree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attributes.items()})
    if text is not None:
        element.text = text
    return element


def _journal_meta(front, article: Article) -> None:
    meta = _add(front, "journal-meta")
    group = _add(meta, "journal-title-group")
    _add(group, "journal-title", article.journal)


def _contributors(meta, article: Article) -> None:
    group = _add(meta, "contrib-group")
    for author in article.authors:
        attributes = {"contrib_type": "author"}
        if author.corresponding:
            attributes["corresp"] = "yes"
        contrib = _add(group, "contrib", **attributes)
        name = _add(contrib, "name")
        _add(name, "surname", author.surname)
        _add(name, "given-names", author.given_names)
        for aff_id in author.aff_ids:
            xref = _add(contrib, "xref", ref_type="aff", rid=aff_id)
            _add(xref, "sup", aff_id[3:])
    for aff in article.affiliations:
        element = _add(meta, "aff", id=aff.aff_id)
        _add(element, "label", aff.label)
        _add(element, "institution", aff.institution).tail = ", "
        _add(element, "addr-line", aff.city)


def _article_meta(front, article: Article) -> None:
    meta = _add(front, "article-meta")
    _add(meta, "article-id", article.doi, pub_id_type="doi")
    categories = _add(meta, "article-categories")
    subject_group = _add(categories, "subj-group", subj_group_type="heading")
    _add(subject_group, "subject", article.manuscript_type)
    _add(_add(meta, "title-group"), "article-title", article.title)
    _contributors(meta, article)
    notes = _add(meta, "author-notes")
    corresp = _add(notes, "corresp", "*Corresponding author. E-mail: ", id="cor1")
    _add(corresp, "email", article.email)
    date = _add(meta, "pub-date", pub_type="epub")
    _add(date, "year", str(article.year))
    _add(meta, "volume", str(article.volume))
    _add(meta, "issue", str(article.issue))
    _add(meta, "fpage", str(article.first_page))
    history = _add(meta, "history")
    _add(history, "date", article.received, date_type="received")
    _add(history, "date", article.accepted, date_type="accepted")
    permissions = _add(meta, "permissions")
    _add(permissions, "copyright-statement", article.copyright)
    abstract = _add(meta, "abstract")
    _add(abstract, "title", article.abstract_title)
    for paragraph in article.abstract:
        _add(abstract, "p", paragraph)
    _typed_abstracts(meta, article)
    keywords = _add(meta, "kwd-group", kwd_group_type="author")
    _add(keywords, "title", article.keywords_title)
    for keyword in article.keywords:
        _add(keywords, "kwd", keyword)


def _typed_abstracts(meta, article: Article) -> None:
    """Highlights and a summary, where the page shows them, as typed abstracts (which the
    abstract class of xml-mapping.conf leaves out, as the page's labels do)."""
    if article.highlights:
        highlights = _add(meta, "abstract", abstract_type="highlights")
        _add(highlights, "title", "Highlights")
        items = _add(highlights, "list", list_type="bullet")
        for item in article.highlights:
            _add(_add(items, "list-item"), "p", item)
    if article.summary:
        summary = _add(meta, "abstract", abstract_type="summary")
        _add(summary, "title", article.summary_title)
        _add(summary, "p", article.summary)


def _captioned(parent, tag: str, element_id: str, item):
    """A figure or table element with its label and caption (title, then the description)."""
    element = _add(parent, tag, id=element_id)
    _add(element, "label", item.label)
    caption = _add(element, "caption")
    _add(caption, "title", item.title)
    if item.description:
        _add(caption, "p", item.description)
    return element


def _body(root, article: Article) -> None:
    body = _add(root, "body")
    for number, section in enumerate(article.sections, start=1):
        sec = _add(body, "sec", id=f"sec{number}")
        _add(sec, "label", str(number))
        _add(sec, "title", section.title)
        for paragraph in section.paragraphs:
            _add(sec, "p", paragraph)
    for number, figure in enumerate(article.figures, start=1):
        _captioned(body, "fig", f"fig{number}", figure)
    for number, table in enumerate(article.tables, start=1):
        wrap = _captioned(body, "table-wrap", f"tab{number}", table)
        element = _add(wrap, "table")
        header_row = _add(_add(element, "thead"), "tr")
        for cell in table.header:
            _add(header_row, "th", cell)
        body_element = _add(element, "tbody")
        for row in table.rows:
            row_element = _add(body_element, "tr")
            for cell in row:
                _add(row_element, "td", cell)
        if table.footer:
            _add(_add(wrap, "table-wrap-foot"), "p", table.footer)


def _back(root, article: Article) -> None:
    back = _add(root, "back")
    if article.acknowledgement:
        ack = _add(back, "ack")
        _add(ack, "title", article.acknowledgement_title)
        _add(ack, "p", article.acknowledgement)
    ref_list = _add(back, "ref-list")
    _add(ref_list, "title", article.reference_list_title)
    for number, reference in enumerate(article.references, start=1):
        ref = _add(ref_list, "ref", id=f"ref{number}")
        _add(ref, "label", str(number))
        _add(ref, "mixed-citation", reference, publication_type="journal")


def jats_xml(article: Article) -> etree._Element:
    root = etree.Element(
        "article",
        {"article-type": "research-article", "dtd-version": "1.2"},
        nsmap={"xlink": "http://www.w3.org/1999/xlink"},
    )
    front = _add(root, "front")
    _journal_meta(front, article)
    _article_meta(front, article)
    _body(root, article)
    _back(root, article)
    return root


def jats_xml_bytes(article: Article) -> bytes:
    """The article's JATS XML document (UTF-8, with the JATS doctype)."""
    return etree.tostring(
        jats_xml(article),
        xml_declaration=True,
        encoding="UTF-8",
        pretty_print=True,
        doctype=DOCTYPE,
    )
