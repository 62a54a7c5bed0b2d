"""Fixtures of the word labeller's tests: token files written by generate-data from tiny
articles made in code, in two publisher groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.generate.factory import article_lines, pdf_bytes, publisher_xml


def generate(source: Path, output: Path, groups: dict[str, str], dpi: float = 30.0) -> Path:
    """Run generate-data's per-document step on tiny articles, `doc_id -> group`, each article's
    XML naming its group (capitalised) as the publisher; the data folder
    (`<output>/train/<group>/<doc_id>/...-page<N>.{png,annot.png,tokens.json}`)."""
    from sciencebeam_gym.color_map import default_color_map_path, load_color_map
    from sciencebeam_gym.document.sources import SourcePair
    from sciencebeam_gym.document.xml_mapping import default_xml_mapping_path, load_xml_mapping
    from sciencebeam_gym.generate.document import OK, Settings, process_pair

    source.mkdir(parents=True, exist_ok=True)
    for doc_id, group in groups.items():
        (source / f"{doc_id}.pdf").write_bytes(pdf_bytes(article_lines(), pages=2))
        (source / f"{doc_id}.xml").write_bytes(publisher_xml(group.capitalize()))
        settings = Settings(
            output_path=str(output),
            color_map=load_color_map(default_color_map_path()),
            mapping=load_xml_mapping(default_xml_mapping_path()),
            pages=(),
            dpi=dpi,
            test_fraction=0.0,
            group=group,
        )
        pair = SourcePair(doc_id, str(source / f"{doc_id}.pdf"), str(source / f"{doc_id}.xml"))
        assert process_pair(pair, settings).status == OK
    return output


@pytest.fixture(scope="module")
def token_data(tmp_path_factory) -> Path:
    """Three tiny articles of two pages: two in group `alpha`, one in group `beta`."""
    root = tmp_path_factory.mktemp("token-data")
    groups = {"a1": "alpha", "a2": "alpha", "b1": "beta"}
    return generate(root / "source", root / "data", groups)
