"""Two of the real published articles (PDF + JATS) beside the repository, when present."""

from pathlib import Path

import pytest

from sciencebeam_gym.color_map import default_color_map_path, load_color_map
from sciencebeam_gym.document.xml_mapping import default_xml_mapping_path, load_xml_mapping
from sciencebeam_gym.generate.document import Settings, coverage_rows, generate_pages

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pdf-jats"
pytestmark = pytest.mark.skipif(
    not REAL_DATA.is_dir(),
    reason=f"real articles not found at {REAL_DATA} (../shared beside the repo)",
)
# a Hindawi two-column page and a PLOS page (external http:// DTD in its DOCTYPE)
ARTICLES = ["PMC4678086", "plos-pone-0115884", "f1000research-3-190"]
MAIN_FIELDS = ("manuscript_title", "author", "abstract")


@pytest.fixture(scope="module")
def settings():
    return Settings(
        output_path="",
        color_map=load_color_map(default_color_map_path()),
        mapping=load_xml_mapping(default_xml_mapping_path()),
        dpi=30,
    )


@pytest.mark.parametrize("doc_id", ARTICLES)
def test_first_page_title_authors_and_abstract_are_covered(doc_id, settings):
    pdf = (REAL_DATA / f"{doc_id}.pdf").read_bytes()
    xml = (REAL_DATA / f"{doc_id}.xml").read_bytes()
    (page,) = generate_pages(pdf, xml, settings)
    rows = {row["label"]: row for row in coverage_rows(page.matches, 1)}
    for label in MAIN_FIELDS:
        assert rows[label]["instances_found"] >= 1, label
        assert rows[label]["coverage"] >= 0.9, (label, rows[label])
    keys = {c.label: c.key for c in settings.color_map.classes}
    for label in MAIN_FIELDS:
        assert (page.label == keys[label]).sum() > 0, label
    # referee reports (F1000 sub-articles) and references are not on the first page
    assert rows.get("reference", {"instances_found": 0})["instances_found"] == 0
