"""The extraction path: a real extraction (its labeller fed a painted page instead of a model)
turned into JATS, kept, and scored."""

import os

import numpy as np

from sciencebeam_gym.extract.model import PaintedLabeller
from sciencebeam_gym.field_evaluation import documents
from sciencebeam_gym.field_evaluation.documents import EvaluationTask, Settings, evaluate_task
from sciencebeam_gym.field_evaluation.fields import load_evaluation_mapping
from sciencebeam_gym.field_evaluation.measures import Counts
from tests.field_evaluation import jats_factory as jats
from tests.generate.factory import pdf_bytes

TITLE_VALUE = 1


def _scores(result) -> dict:
    return {(s.field, s.measure): s.counts for s in result.scores}


def test_a_page_painted_as_title_is_extracted_kept_and_scored(tmp_path, monkeypatch):
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(pdf_bytes([(72, 700, 16, jats.TITLE)]))
    gold = tmp_path / "paper.xml"
    gold.write_bytes(jats.article_xml())
    painted = np.full((792, 612), TITLE_VALUE, dtype=np.uint8)  # every pixel: the title class
    labeller = PaintedLabeller([painted], {TITLE_VALUE: "manuscript_title"})
    # the labeller a loaded model would be, put where evaluate_task keeps its loaded models
    evaluation = tmp_path / "out" / "evaluation"
    settings = Settings(load_evaluation_mapping(), str(evaluation), "painted-model", pages=(1,))
    monkeypatch.setitem(documents._MODELS, documents.model_key(settings), labeller)
    result = evaluate_task(EvaluationTask("paper", str(gold), str(pdf)), settings)
    assert result.status == "scored", result.reason
    scores = _scores(result)
    assert scores[("title", "strict")] == Counts(1, 1, 1)
    assert scores[("authors", "soft")] == Counts(3, 0, 0)  # nothing painted as author
    assert os.path.exists(evaluation / "extracted" / "paper.xml")


def test_a_broken_pdf_is_skipped_with_the_extraction_reason(tmp_path, monkeypatch):
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4 this is not a PDF")
    gold = tmp_path / "paper.xml"
    gold.write_bytes(jats.article_xml())
    settings = Settings(load_evaluation_mapping(), str(tmp_path / "out"), "painted-model")
    monkeypatch.setitem(documents._MODELS, documents.model_key(settings), PaintedLabeller([], {}))
    result = evaluate_task(EvaluationTask("paper", str(gold), str(pdf)), settings)
    assert result.status == "skipped"
    assert result.reason.startswith("extraction: ") and "PDF" in result.reason
