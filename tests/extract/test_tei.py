"""The TEI writer: every field in GROBID's place, header only for processHeaderDocument, and
extract.sh --format tei writing the same TEI as the writer."""

from __future__ import annotations

import json

from lxml import etree

from sciencebeam_gym.extract.article import Affiliation, Author, ExtractedArticle, Section
from sciencebeam_gym.extract.cli import main
from sciencebeam_gym.extract.tei import TEI_NS, article_to_tei, article_to_tei_bytes
from tests.extract.pages import Text, make_pdf, paragraph

NS = {"tei": TEI_NS}
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"

ARTICLE = ExtractedArticle(
    source="frogs.pdf",
    title="Frogs Give Birth",
    authors=[
        Author("Ann Mary Lee", given_names="Ann Mary", surname="Lee"),
        Author("Ray", given_names="", surname=""),
    ],
    affiliations=[Affiliation("Uni X, Oslo", label="1"), Affiliation("Lab Y")],
    abstract="Frogs were seen.",
    keywords=["frogs", "birth"],
    sections=[Section("Introduction", ["Frogs are many.", "Toads too."]), Section("", ["Alone."])],
    references=["Lee A. Frogs. 2001.", "Ray B. Toads. 2002."],
    pages=2,
)


def parse(article: ExtractedArticle, header_only: bool = False) -> etree._Element:
    return etree.fromstring(article_to_tei_bytes(article, header_only))


def texts(root: etree._Element, path: str) -> list[str]:
    return ["".join(e.itertext()) for e in root.iterfind(path, NS)]


def test_the_header_holds_title_authors_affiliations_abstract_and_keywords():
    root = parse(ARTICLE)
    assert root.tag == f"{{{TEI_NS}}}TEI"
    header = "tei:teiHeader/tei:fileDesc"
    assert texts(root, f"{header}/tei:titleStmt/tei:title[@type='main']") == [ARTICLE.title]
    analytic = f"{header}/tei:sourceDesc/tei:biblStruct/tei:analytic"
    assert texts(root, f"{analytic}/tei:title[@level='a']") == [ARTICLE.title]
    authors = root.findall(f"{analytic}/tei:author", NS)
    assert [texts(a, "tei:persName/tei:surname") for a in authors] == [["Lee"], ["Ray"]]
    first = authors[0].find("tei:persName", NS)
    assert [(f.get("type"), f.text) for f in first.iterfind("tei:forename", NS)] == [
        ("first", "Ann"),
        ("middle", "Mary"),
    ]
    assert authors[1].find("tei:persName/tei:forename", NS) is None
    for author in authors:
        affiliations = author.findall("tei:affiliation", NS)
        assert [a.get("key") for a in affiliations] == ["aff0", "aff1"]
        notes = [a.find("tei:note[@type='raw_affiliation']", NS) for a in affiliations]
        assert [n.findtext("tei:label", namespaces=NS) for n in notes] == ["1", None]
        assert ["".join(n.itertext()) for n in notes] == ["1 Uni X, Oslo", "Lab Y"]
    profile = "tei:teiHeader/tei:profileDesc"
    assert texts(root, f"{profile}/tei:abstract/tei:div/tei:p") == [ARTICLE.abstract]
    assert texts(root, f"{profile}/tei:textClass/tei:keywords/tei:term") == ["frogs", "birth"]


def test_the_text_holds_sections_and_references_unless_header_only():
    root = parse(ARTICLE)
    divs = root.findall("tei:text/tei:body/tei:div", NS)
    assert [texts(d, "tei:head") for d in divs] == [["Introduction"], []]
    assert [texts(d, "tei:p") for d in divs] == [["Frogs are many.", "Toads too."], ["Alone."]]
    bibl = root.findall("tei:text/tei:back/tei:div[@type='references']/tei:listBibl/*", NS)
    assert [b.get(XML_ID) for b in bibl] == ["b0", "b1"]
    assert [b.findtext("tei:note[@type='raw_reference']", namespaces=NS) for b in bibl] == (
        ARTICLE.references
    )
    header_only = parse(ARTICLE, header_only=True)
    assert header_only.find("tei:text", NS) is not None
    assert len(header_only.find("tei:text", NS)) == 0
    assert texts(header_only, ".//tei:titleStmt/tei:title") == [ARTICLE.title]


def test_an_empty_article_still_gives_a_valid_skeleton():
    root = article_to_tei(ExtractedArticle())
    assert root.find("tei:teiHeader/tei:fileDesc/tei:titleStmt/tei:title", NS).text is None
    assert root.find("tei:teiHeader/tei:profileDesc/tei:abstract", NS) is not None
    assert root.findall(".//tei:biblStruct[@type]", NS) == []


def test_extract_sh_format_tei_writes_the_writers_tei(tmp_path, tiny_export):
    page = [Text(72, 80, 20, "A Title", "manuscript_title"), *paragraph(72, 120, ["Text."], "")]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "doc.pdf").write_bytes(make_pdf([page]))
    for fmt in ("tei", "json"):
        args = [str(tmp_path / "in"), str(tmp_path / "out"), "--saved_model", str(tiny_export)]
        assert main([*args, "--format", fmt]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["doc.json", "doc.tei.xml"]
    article = ExtractedArticle(**_article_fields((tmp_path / "out" / "doc.json").read_text()))
    # the file is the writer's TEI, with the toolkit's mark after the XML declaration
    declaration, mark, tei = (tmp_path / "out" / "doc.tei.xml").read_bytes().split(b"\n", 2)
    assert mark == b"<?sciencebeam-gym extract?>"
    assert declaration + b"\n" + tei == article_to_tei_bytes(article)


def _article_fields(text: str) -> dict:
    """The JSON of extract.sh back as ExtractedArticle's fields (the dataclasses rebuilt)."""
    data = json.loads(text)
    del data["generator"]  # the toolkit's mark (storage/output_marks.py), no field
    data["authors"] = [Author(**a) for a in data["authors"]]
    data["affiliations"] = [Affiliation(**a) for a in data["affiliations"]]
    data["sections"] = [Section(**s) for s in data["sections"]]
    data["regions"] = []
    return data
