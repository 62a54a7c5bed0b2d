"""A real article (PLOS ONE): its text layer with labels painted from its own JATS by the
generate/ aligner, assembled into JATS that must give back the article's title and authors."""

from __future__ import annotations

from lxml import etree

from sciencebeam_gym.color_map import default_color_map_path, load_color_map
from sciencebeam_gym.document.jats import parse_article
from sciencebeam_gym.document.text import collapse_whitespace
from sciencebeam_gym.document.xml_mapping import default_xml_mapping_path, load_xml_mapping
from sciencebeam_gym.extract import extract_document
from sciencebeam_gym.extract.model import PaintedLabeller
from sciencebeam_gym.generate.document import Settings, generate_pages
from tests.extract.conftest import real_article

STEM = "plos-pone-0115884"


def painted_from_jats(pdf: bytes, xml: bytes, pages: tuple[int, ...]) -> PaintedLabeller:
    color_map = load_color_map(default_color_map_path())
    settings = Settings(
        output_path="",
        color_map=color_map,
        mapping=load_xml_mapping(default_xml_mapping_path()),
        pages=pages,
    )
    maps = [page.label for page in generate_pages(pdf, xml, settings)]
    return PaintedLabeller(maps, {c.key: c.label for c in color_map.classes})


def test_the_plos_article_gives_its_title_authors_and_affiliations():
    pdf_path, xml_path = real_article(STEM)
    pdf, xml = pdf_path.read_bytes(), xml_path.read_bytes()
    article = extract_document(pdf, painted_from_jats(pdf, xml, (1,)), pages=[1])
    extracted = etree.fromstring(article.to_jats_bytes())
    truth = parse_article(xml)
    meta, true_meta = extracted.find("front/article-meta"), truth.find("front/article-meta")
    title = "".join(true_meta.find("title-group/article-title").itertext())
    assert extracted.findtext(".//article-title") == collapse_whitespace(title)
    authors = [
        (n.findtext("given-names"), n.findtext("surname"))
        for n in true_meta.iterfind("contrib-group/contrib[@contrib-type='author']/name")
    ]
    found = [
        (n.findtext("given-names"), n.findtext("surname"))
        for n in meta.iterfind("contrib-group/contrib/name")
    ]
    assert found == authors
    labels = [a.findtext("label") for a in meta.iterfind("aff") if a.findtext("label")]
    assert labels == ["1", "2", "3"]
    assert meta.findtext("abstract/p").startswith("We describe a new species of fanged frog")
