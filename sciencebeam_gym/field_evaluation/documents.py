"""One document's evaluation: find its files, get its extracted JATS, score it against the gold.

Used alike by the local process pool and the Beam pipeline; every failure of a document becomes a
skipped result with a short reason, never an exception that stops the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sciencebeam_gym.document import limits
from sciencebeam_gym.document.errors import SkipError
from sciencebeam_gym.document.pages import PageSelection
from sciencebeam_gym.document.sources import PDF_SUFFIXES, XML_SUFFIXES, SourcePair, find_pairs
from sciencebeam_gym.document.xml_mapping import XmlMapping
from sciencebeam_gym.field_evaluation.fields import (
    ArticleFields,
    read_fields_from_bytes,
    read_fields_from_element,
)
from sciencebeam_gym.field_evaluation.scoring import FieldScore, score_document
from sciencebeam_gym.storage import fs

SCORED = "scored"
SKIPPED = "skipped"
EXTRACTED_FOLDER = "extracted"
PICTURES_FOLDER = "pictures"


@dataclass(frozen=True)
class EvaluationTask:
    """A document to score: its publisher's XML, its PDF, and (--extracted) its extracted XML."""

    doc_id: str
    xml: str | None
    pdf: str | None
    extracted: str | None = None


@dataclass(frozen=True)
class Settings:
    """What every document needs: the field mapping, the model, where results go."""

    mapping: XmlMapping
    evaluation_path: str  # <output>/evaluation
    model_path: str | None = None  # None: score the already-extracted XML of each task
    pages: PageSelection | tuple[int, ...] | None = None  # pages to extract; None: all
    pictures: bool = False
    labeller: str = "auto"  # extract.words.LABELLERS: words, pixels, or words when there are some
    word_model: str = ""  # the word model's folder; empty: beside the model
    timeout: float | None = None  # seconds one document's extraction may take


@dataclass
class DocumentResult:
    doc_id: str
    status: str
    reason: str = ""
    detail: str = ""
    scores: list[FieldScore] = field(default_factory=list)
    seconds: float = 0.0
    picture: str | None = None


def extracted_file(extracted_dir: str, pair: SourcePair) -> str | None:
    """The extracted XML of a pair: `<PDF or XML stem>.xml`, else `<doc_id>.xml`; None if neither."""
    stems = [_stem(path) for path in (pair.pdf, pair.xml) if path]
    for stem in [*stems, pair.doc_id]:
        candidate = fs.join(extracted_dir, f"{stem}.xml")
        if fs.exists(candidate):
            return candidate
    return None


def _stem(path: str) -> str:
    name = fs.basename(path)
    for suffix in (*PDF_SUFFIXES, *XML_SUFFIXES):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def find_tasks(source: str, extracted_dir: str | None = None) -> list[EvaluationTask]:
    """Tasks from a source folder or file list (as generate-data finds pairs); SourceError when
    the source holds nothing."""
    tasks = []
    for pair in find_pairs(source):
        extracted = extracted_file(extracted_dir, pair) if extracted_dir else None
        tasks.append(EvaluationTask(pair.doc_id, pair.xml, pair.pdf, extracted))
    return tasks


def _missing_input(task: EvaluationTask, settings: Settings) -> str | None:
    if not task.xml:
        return "no publisher XML (a PDF without its .xml / .nxml partner)"
    if settings.model_path is None and not task.extracted:
        return f"no extracted XML ({task.doc_id}.xml not in the --extracted folder)"
    if settings.model_path is not None and not task.pdf:
        return "no PDF (an XML without its .pdf partner)"
    return None


def _read(path: str, side: str) -> bytes:
    """An XML file's bytes, gunzipped within limits.MAX_XML_BYTES (a FIFO refused unopened)."""
    try:
        return limits.read_document(path, limits.MAX_XML_BYTES)
    except limits.LimitError as error:
        reason = "cannot be read" if error.reason == limits.NOT_A_FILE else error.reason
        raise SkipError(f"{side} XML: {reason}", error.detail) from error
    except Exception as error:  # noqa: BLE001 - missing, a folder, no permission: one reason
        raise SkipError(f"{side} XML: cannot be read", f"{path}: {error}") from error


def _read_fields(path: str, side: str, mapping: XmlMapping) -> ArticleFields:
    data = _read(path, side)
    try:
        return read_fields_from_bytes(data, mapping)
    except SkipError as error:
        raise SkipError(f"{side} XML: {error.reason}", _detail(error)) from error


def read_gold(task: EvaluationTask, mapping: XmlMapping) -> ArticleFields:
    return _read_fields(task.xml, "publisher", mapping)


def _detail(error: Exception) -> str:
    text = str(error)
    reason = getattr(error, "reason", "")
    return text[len(reason) + 2 :] if reason and text.startswith(reason + ": ") else text


def read_extracted_file(task: EvaluationTask, mapping: XmlMapping) -> ArticleFields:
    return _read_fields(task.extracted, "extracted", mapping)


_MODELS: dict[tuple, object] = {}  # (model, labeller, word model) -> labeller, once per process


def _model(settings: Settings):
    """The settings' labeller (the model, with its word model or not), loaded once per process."""
    from sciencebeam_gym.extract.words import choose_labeller  # needs TensorFlow: load late

    key = model_key(settings)
    model = _MODELS.get(key)
    if model is None:
        model = _MODELS[key] = choose_labeller(
            **model_paths(settings.model_path),
            labeller=settings.labeller,
            word_model=settings.word_model,
        )
    return model


def model_key(settings: Settings) -> tuple[str | None, str, str]:
    """What makes a labeller: the model, the labeller asked for, the word model."""
    return (settings.model_path, settings.labeller, settings.word_model)


def model_paths(path: str) -> dict[str, str]:
    """An export (a folder with metadata.json, or a gs:// path) or a training folder, as the
    labeller's arguments."""
    from sciencebeam_gym.extract.model import METADATA_FILENAME

    if fs.is_remote(path) or fs.exists(fs.join(path, METADATA_FILENAME)):
        return {"saved_model": path}
    return {"model_path": path}


def extract_and_save(task: EvaluationTask, settings: Settings):
    """Extract the PDF into <evaluation>/extracted/<doc_id>.xml; (its fields, the article)."""
    from sciencebeam_gym.extract import extract_to

    target = fs.join(settings.evaluation_path, EXTRACTED_FOLDER, f"{task.doc_id}.xml")
    try:
        article = extract_to(
            task.pdf, _model(settings), target, "xml", settings.pages, timeout=settings.timeout
        )
        element = article.to_jats()
    except Exception as error:  # noqa: BLE001 - one bad PDF must not stop the corpus
        # ExtractError and PdfError carry a short reason ("encrypted PDF", "no text layer").
        reason = getattr(error, "reason", "") or type(error).__name__
        raise SkipError(f"extraction: {reason}", str(error)) from error
    return read_fields_from_element(element, settings.mapping), article


def evaluate_task(task: EvaluationTask, settings: Settings) -> DocumentResult:
    """Score one document; a skipped result with the reason when any input is missing or bad."""
    try:
        return _evaluate_task(task, settings)
    except Exception as error:  # noqa: BLE001 - a failure of ours must not stop the corpus
        return DocumentResult(task.doc_id, SKIPPED, "unexpected error", repr(error))


def _evaluate_task(task: EvaluationTask, settings: Settings) -> DocumentResult:
    started = time.monotonic()
    missing = _missing_input(task, settings)
    if missing:
        return DocumentResult(task.doc_id, SKIPPED, missing)
    article = None
    try:
        gold = read_gold(task, settings.mapping)
        if settings.model_path is None:
            extracted = read_extracted_file(task, settings.mapping)
        else:
            extracted, article = extract_and_save(task, settings)
    except SkipError as error:
        return DocumentResult(task.doc_id, SKIPPED, error.reason, _detail(error))
    result = DocumentResult(task.doc_id, SCORED, scores=score_document(gold, extracted))
    if settings.pictures:
        result.picture = _picture(task, settings, gold, extracted, article, result)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _picture(task, settings, gold, extracted, article, result) -> str | None:
    from sciencebeam_gym.field_evaluation.pictures import write_picture

    path = fs.join(settings.evaluation_path, PICTURES_FOLDER, f"{task.doc_id}.png")
    try:
        return write_picture(path, task.pdf, gold, extracted, result.scores, article)
    except SkipError as error:  # the scores stand even when the page cannot be drawn
        result.detail = f"no picture: {error}"
        return None
