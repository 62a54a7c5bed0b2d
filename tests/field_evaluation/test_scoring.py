import glob
import os

import pytest

from sciencebeam_gym.field_evaluation.fields import (
    FIELDS,
    load_evaluation_mapping,
    read_fields_from_bytes,
)
from sciencebeam_gym.field_evaluation.measures import Counts
from sciencebeam_gym.field_evaluation.scoring import COUNT_MEASURE, field_summary, score_document
from tests.field_evaluation import jats_factory as jats

MAPPING = load_evaluation_mapping()
SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "pdf-jats")


def _scores(gold_xml: bytes, extracted_xml: bytes) -> dict:
    gold = read_fields_from_bytes(gold_xml, MAPPING)
    extracted = read_fields_from_bytes(extracted_xml, MAPPING)
    return {(s.field, s.measure): s for s in score_document(gold, extracted)}


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="the shared pdf-jats articles are not here")
def test_every_publisher_article_against_itself_scores_one():
    paths = sorted(glob.glob(os.path.join(SHARED, "*.xml")))
    assert len(paths) >= 10
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        for (field, measure), score in _scores(data, data).items():
            if score.counts.expected:
                assert score.counts.f1 == 1.0, (path, field, measure)


def test_a_dropped_author_and_an_extra_affiliation():
    gold = jats.article_xml()
    extracted = jats.article_xml(
        authors=jats.AUTHORS[:2], affiliations=(*jats.AFFILIATIONS, "Somewhere Else, Nowhere")
    )
    scores = _scores(gold, extracted)
    for measure in ("strict", "soft", "ratcliff_obershelp"):
        assert scores[("authors", measure)].counts == Counts(3, 2, 2)
        assert scores[("affiliations", measure)].counts == Counts(2, 3, 2)
        assert scores[("first_author", measure)].counts == Counts(1, 1, 1)
    assert scores[("authors", "soft")].counts.recall == pytest.approx(2 / 3)


def test_case_and_punctuation_fail_strict_only_and_typos_fail_ratcliff_obershelp_first():
    scores = _scores(jats.article_xml(), jats.article_xml(title=jats.TITLE.upper() + "."))
    assert scores[("title", "strict")].counts.matched == 0
    assert scores[("title", "soft")].counts.matched == 1
    assert scores[("title", "ratcliff_obershelp")].counts.matched == 1
    # four letters changed in a 43-letter title: Levenshtein 0.907 passes, R/O 0.907 does not
    typo = jats.TITLE.replace("grey", "gray").replace("seals", "seels").replace("weaned", "waened")
    scores = _scores(jats.article_xml(), jats.article_xml(title=typo))
    assert scores[("title", "soft")].counts.matched == 1
    assert scores[("title", "ratcliff_obershelp")].counts.matched == 0
    assert 0.8 < scores[("title", "soft")].similarity < 0.95


def test_an_unrelated_abstract_a_missing_keyword_list_and_the_reference_count():
    extracted = jats.article_xml(
        abstract="Completely different text about frogs.",
        keywords=(),
        references=jats.REFERENCES[:1],
    )
    scores = _scores(jats.article_xml(), extracted)
    assert scores[("abstract", "soft")].counts == Counts(1, 1, 0)
    assert scores[("keywords", "soft")].counts == Counts(3, 0, 0)
    assert scores[("references", "soft")].counts == Counts(3, 1, 1)
    assert scores[("references", COUNT_MEASURE)].counts == Counts(3, 1, 1)


def test_field_summary_sums_documents_micro():
    perfect = list(_scores(jats.article_xml(), jats.article_xml()).values())
    half = list(_scores(jats.article_xml(), jats.article_xml(authors=jats.AUTHORS[:1])).values())
    summary = field_summary([perfect, half])
    authors = summary["authors"]["soft"]
    assert (authors["expected"], authors["actual"], authors["matched"]) == (6, 4, 4)
    assert authors["f1"] == pytest.approx(0.8) and authors["documents"] == 2
    assert set(summary) == set(FIELDS)
