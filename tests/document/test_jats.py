import gzip

import pytest

from sciencebeam_gym.document.jats import XmlError, element_text, extract_fields, parse_article
from sciencebeam_gym.document.xml_mapping import parse_xml_mapping
from tests.generate.factory import AFFILIATION, TITLE, article_xml

MAPPING = parse_xml_mapping(
    "[fields]\n"
    "manuscript_title = front/article-meta/title-group/article-title\n"
    "author = front/article-meta/contrib-group/contrib/name\n"
    "author_aff = front/article-meta/aff\n"
    "keywords_title = front/article-meta/kwd-group/title\n"
    "keywords_title = 'Keywords'\n"
    "figure_title = .//fig :: label | caption/title\n"
    "section_paragraph = body//sec/p\n"
    "[options]\n"
    "author = group\n"
    "[xml]\n"
    "drop = sub-article\n"
    "inline = italic sup xref\n"
    "skip = fig\n"
)


def test_parses_without_fetching_the_external_dtd_and_reads_fields():
    # the DOCTYPE names an http:// DTD; parsing must neither fetch nor fail on it
    article = parse_article(article_xml(doctype=True))
    fields = {f.label: f for f in extract_fields(article, MAPPING)}
    assert fields["manuscript_title"].text == TITLE
    # given names are printed before surnames, like the page shows them
    assert fields["author"].text == "Anna Berg Tomas Lind"
    assert fields["author_aff"].text == f"1 {AFFILIATION}"
    assert fields["keywords_title"].text == "Keywords"  # the literal fallback


def test_gzip_namespaces_sub_articles_inline_and_skipped_elements():
    xml = b"""<?xml version="1.0"?>
<article xmlns="http://jats.nlm.nih.gov/ns"><body><sec><p>Dog<italic>s</italic> bark
<fig><label>Figure 1</label><caption><title>A dog.</title></caption></fig>loudly.</p></sec></body>
<sub-article><body><sec><p>Referee report text.</p></sec></body></sub-article></article>"""
    article = parse_article(gzip.compress(xml))
    fields = extract_fields(article, MAPPING)
    paragraphs = [f.text for f in fields if f.label == "section_paragraph"]
    assert paragraphs == ["Dogs bark loudly."]
    assert [f.text for f in fields if f.label == "figure_title"] == ["Figure 1 A dog."]
    assert element_text(article.find("body"), frozenset()).startswith("Dog s bark")


@pytest.mark.parametrize("data", [b"", b"<article><front>", b"not xml at all"])
def test_xml_that_does_not_parse_raises_xml_error(data):
    with pytest.raises(XmlError) as error:
        parse_article(data)
    assert error.value.reason == "XML does not parse"


def test_xml_without_article_element_is_rejected():
    with pytest.raises(XmlError, match="no <article>"):
        parse_article(b"<html><body/></html>")


def test_the_publisher_group_leaves_corporate_words_out():
    from sciencebeam_gym.document.jats import publisher_group

    def xml(name):
        return (
            "<article><front><journal-meta><publisher><publisher-name>"
            f"{name}</publisher-name></publisher></journal-meta></front></article>"
        ).encode()

    assert publisher_group(xml("Hindawi Publishing Corporation")) == "hindawi"
    assert publisher_group(xml("Frontiers Media S.A.")) == "frontiers"
    assert publisher_group(xml("The Royal Society Publishing")) == "royal-society"
    assert publisher_group(xml("Public Library of Science")) == "public-library-of-science"
    assert publisher_group(b"<article><front/></article>") is None
    assert publisher_group(b"<not xml") is None
