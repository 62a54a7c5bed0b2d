import pytest
from lxml import etree

from sciencebeam_gym.document.jats import XmlError
from sciencebeam_gym.document.xml_mapping import parse_xml_mapping
from sciencebeam_gym.field_evaluation.fields import (
    evaluation_mapping,
    load_evaluation_mapping,
    read_fields_from_bytes,
    read_fields_from_element,
)
from tests.field_evaluation import jats_factory as jats

MAPPING = load_evaluation_mapping()


@pytest.mark.parametrize("namespace", [False, True])
def test_reads_every_scored_field_with_the_repository_mapping(namespace):
    fields = read_fields_from_bytes(jats.article_xml(namespace=namespace), MAPPING)
    assert fields.title == jats.TITLE
    assert fields.abstract == jats.ABSTRACT
    # full names, given names first; a list, not the one block generate-data paints
    assert fields.authors == ("Kelly J. Robinson", "Sean D. Twiss", "Neil Hazon")
    assert fields.first_author == "Kelly J. Robinson"
    assert fields.affiliations == jats.AFFILIATIONS  # the <label> numbers are left out
    assert fields.keywords == jats.KEYWORDS
    assert fields.section_titles == jats.SECTIONS
    assert fields.references == jats.REFERENCES


def test_an_element_reads_as_its_file_would():
    element = etree.fromstring(jats.article_xml(namespace=True))
    assert read_fields_from_element(element, MAPPING) == read_fields_from_bytes(
        jats.article_xml(), MAPPING
    )


def test_empty_fields_and_bad_xml():
    fields = read_fields_from_bytes(jats.article_xml(keywords=(), authors=()), MAPPING)
    assert fields.keywords == () and fields.first_author == ""
    with pytest.raises(XmlError, match="XML does not parse"):
        read_fields_from_bytes(b"<article><front>", MAPPING)


def test_a_mapping_without_a_scored_field_is_refused_by_name():
    mapping = parse_xml_mapping("[fields]\nmanuscript_title = front//article-title\n", "m.conf")
    with pytest.raises(ValueError, match=r"m.conf: no \[fields\] line for .*'abstract'"):
        evaluation_mapping(mapping)


def test_email_addresses_inside_an_affiliation_are_left_out():
    xml = jats.article_xml().replace(
        b"Durham, UK</aff>", b"Durham, UK; E-Mail: <email>ann@durham.ac.uk</email></aff>", 1
    )
    assert b"<email>" in xml
    fields = read_fields_from_bytes(xml, MAPPING)
    assert fields.affiliations[1] == jats.AFFILIATIONS[1] + "; E-Mail:"
