"""GROBID's own Python client (grobid-client-python, from the package index) against the
service: it checks /api/isalive, posts each PDF of a folder to processHeaderDocument with its
form fields, and saves the TEI it gets back; each saved TEI must hold its article's title."""

from __future__ import annotations

import re
import shutil

from grobid_client.grobid_client import GrobidClient
from lxml import etree

from sciencebeam_gym.document.jats import parse_article
from sciencebeam_gym.extract.tei import TEI_NS
from tests.service.conftest import need_articles

TEI_SUFFIX = ".grobid.tei.xml"  # what the client names the files it saves


def comparable(text: str) -> str:
    """Letters and digits only, lower case: a title as a reader would compare it."""
    return re.sub(r"[\W_]+", "", text).lower()


def jats_title(xml_path) -> str:
    meta = parse_article(xml_path.read_bytes()).find("front/article-meta")
    return " ".join("".join(meta.find("title-group/article-title").itertext()).split())


def tei_title(path) -> str:
    root = etree.parse(str(path)).getroot()
    return root.findtext(
        "tei:teiHeader/tei:fileDesc/tei:titleStmt/tei:title", namespaces={"tei": TEI_NS}
    )


def test_grobid_client_gets_each_article_title(oracle_server, tmp_path, capsys):
    articles = need_articles()
    pdfs, out = tmp_path / "pdfs", tmp_path / "tei"
    pdfs.mkdir()
    for pdf, _xml in articles:
        shutil.copy(pdf, pdfs / pdf.name)
    client = GrobidClient(grobid_server=oracle_server.url, sleep_time=1, timeout=120)
    client.process("processHeaderDocument", str(pdfs), output=str(out), n=2)
    saved = sorted(p.name for p in out.iterdir())
    assert saved == sorted(pdf.stem + TEI_SUFFIX for pdf, _xml in articles)
    lines = []
    for pdf, xml in articles:
        found, expected = tei_title(out / (pdf.stem + TEI_SUFFIX)), jats_title(xml)
        lines.append(f"{pdf.name}: {found!r} (JATS: {expected!r})")
        assert comparable(found or "") == comparable(expected), lines[-1]
    with capsys.disabled():
        print(f"\ngrobid-client: {len(articles)} PDFs sent, {len(saved)} TEI files back")
        print("\n".join(f"  title found: {line}" for line in lines))
