"""The evaluation run end to end on tiny corpora made in the test (--extracted: no model)."""

import csv
import json
import os
import subprocess
import time

import pytest
from PIL import Image

from sciencebeam_gym.field_evaluation.cli import main
from tests.field_evaluation import jats_factory as jats
from tests.generate.factory import pdf_bytes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PERTURBED = jats.article_xml(authors=jats.AUTHORS[:2], title=jats.TITLE.lower())


def _write(path, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


@pytest.fixture
def corpus(tmp_path):
    """Source and extracted folders: two good documents, and one of each kind of bad input."""
    source, extracted = tmp_path / "source", tmp_path / "extracted"
    pdf = pdf_bytes([(72, 700, 16, jats.TITLE)])
    gold = {"good": jats.article_xml(), "perturbed": jats.article_xml()}
    gold.update(broken_gold=b"<article><front>", no_extracted=jats.article_xml())
    gold.update(broken_extracted=jats.article_xml())
    for name, data in gold.items():
        _write(f"{source}/{name}.xml", data)
        _write(f"{source}/{name}.pdf", pdf)
    _write(f"{source}/pdf_only.pdf", pdf)
    for name, data in {
        "good": jats.article_xml(),
        "perturbed": PERTURBED,
        "broken_gold": jats.article_xml(),
        "broken_extracted": b"not xml at all",
    }.items():
        _write(f"{extracted}/{name}.xml", data)
    return str(source), str(extracted), str(tmp_path / "out")


def _run(source, extracted, output, *extra) -> int:
    return main(["--source", source, "--extracted", extracted, "--output", output, *extra])


def _summary(output) -> dict:
    with open(os.path.join(output, "evaluation", "summary.json")) as f:
        return json.load(f)


def test_scores_good_documents_and_skips_each_bad_one_with_its_reason(corpus, capsys):
    source, extracted, output = corpus
    assert _run(source, extracted, output, "--workers", "1") == 1  # some were skipped
    summary = _summary(output)
    assert summary["documents"]["scored"] == 2 and summary["documents"]["skipped"] == 4
    reasons = {s["doc_id"]: s["reason"] for s in summary["skipped"]}
    assert reasons == {
        "broken_gold": "publisher XML: XML does not parse",
        "broken_extracted": "extracted XML: XML does not parse",
        "no_extracted": "no extracted XML (no_extracted.xml not in the --extracted folder)",
        "pdf_only": "no publisher XML (a PDF without its .xml / .nxml partner)",
    }
    authors = summary["fields"]["authors"]["soft"]
    assert (authors["expected"], authors["actual"], authors["matched"]) == (6, 5, 5)
    title = summary["fields"]["title"]
    assert title["strict"]["matched"] == 1 and title["soft"]["matched"] == 2  # lower case
    assert summary["failures"]["perturbed"] == [
        "authors: 2 of 3 matched, 0 of 2 extracted match nothing"
    ]
    with open(os.path.join(output, "evaluation", "fields.csv")) as f:
        rows = list(csv.DictReader(f))
    skipped_rows = [r for r in rows if r["status"] == "skipped"]
    assert {r["doc_id"] for r in skipped_rows} == set(reasons)
    assert next(r for r in skipped_rows if r["doc_id"] == "broken_gold")["reason"].startswith(
        "publisher XML: XML does not parse: "
    )
    perturbed = {(r["field"], r["measure"]): r for r in rows if r["doc_id"] == "perturbed"}
    assert perturbed[("authors", "soft")]["recall"] == "0.6667"
    assert perturbed[("title", "strict")]["f1"] == "0.0000"
    table = capsys.readouterr().out
    assert "authors" in table and "documents: 2 scored, 4 skipped" in table


def test_exit_2_when_no_document_can_be_scored(corpus, tmp_path, capsys):
    source, _extracted, output = corpus
    empty = tmp_path / "nothing-extracted"
    empty.mkdir()
    assert _run(source, str(empty), output, "--workers", "1") == 2
    assert "no document could be scored" in capsys.readouterr().err
    assert _summary(output)["documents"]["scored"] == 0


def test_an_output_that_cannot_be_written_is_named(corpus, tmp_path, capsys):
    source, extracted, _output = corpus
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert _run(source, extracted, str(blocker / "out")) == 2
    assert f"cannot write to --output {blocker / 'out'}" in capsys.readouterr().err


def test_a_model_or_extracted_folder_is_required_and_a_missing_model_is_named(corpus, capsys):
    source, _extracted, output = corpus
    assert main(["--source", source, "--output", output]) == 2
    assert "pass --model PATH" in capsys.readouterr().err
    assert main(["--source", source, "--output", output, "--model", "/nonexistent/model"]) == 2
    err = capsys.readouterr().err
    assert "--model /nonexistent/model does not exist" in err or "--extracted DIR" in err


def test_pictures_show_the_page_and_the_texts(corpus):
    source, extracted, output = corpus
    assert _run(source, extracted, output, "--pictures", "--workers", "1") == 1
    folder = os.path.join(output, "evaluation", "pictures")
    assert sorted(os.listdir(folder)) == ["good.png", "perturbed.png"]
    with Image.open(os.path.join(folder, "perturbed.png")) as picture:
        # a US letter page at 100 dpi is 850 px wide; the texts are beside it
        assert picture.width > 850 and picture.height >= 1100
        panel = picture.crop((860, 0, picture.width, 400)).convert("L")
        assert panel.getextrema()[0] < 128  # text was drawn


def test_the_dataflow_dry_run_prints_the_options_without_network(
    corpus, capsys, monkeypatch, tmp_path
):
    source, extracted, output = corpus
    monkeypatch.setenv("PROJECT", "my-project")
    monkeypatch.setenv("BUCKET", "gs://my-bucket")
    for key, value in {"SUB_PROJECT_NAME": "sciencebeam", "REGION": "europe-west1"}.items():
        monkeypatch.setenv(key, value)  # what prepare-shell.sh --cloud sets
    monkeypatch.setenv("MAX_NUM_WORKERS", "3")
    monkeypatch.setenv("GYM_ROOT", str(tmp_path))
    assert _run(source, extracted, output, "--cloud", "--dry-run") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["pipeline_options"]["runner"] == "DataflowRunner"
    assert printed["pipeline_options"]["project"] == "my-project"
    assert printed["pipeline_options"]["job_name"] == "evaluate-extraction"
    assert printed["pipeline_options"]["region"] == "europe-west1"
    # the workers get a requirements file for the generate extra (lxml, rapidfuzz, ...)
    assert os.path.exists(printed["pipeline_options"]["requirements_file"])
    assert not os.path.exists(output)  # a dry run writes nothing


def test_a_misspelt_flag_is_refused_with_the_closest_name(corpus, capsys):
    source, extracted, output = corpus
    with pytest.raises(SystemExit) as exit_info:
        _run(source, extracted, output, "--wokers", "2")
    assert exit_info.value.code == 2
    assert "--wokers (did you mean --workers?)" in capsys.readouterr().err


@pytest.mark.slow
def test_beam_direct_runner_and_process_pool_agree_with_one_process(corpus):
    source, extracted, output = corpus
    # 1: the corpus holds bad documents, skipped alike by each runner
    assert _run(source, extracted, output + "-1", "--workers", "1") == 1
    assert _run(source, extracted, output + "-pool", "--workers", "2") == 1
    assert _run(source, extracted, output + "-beam", "--runner", "DirectRunner") == 1
    expected = _summary(output + "-1")
    for other in (output + "-pool", output + "-beam"):
        summary = _summary(other)
        assert summary["fields"] == expected["fields"]
        assert summary["skipped"] == expected["skipped"]


def test_the_script_answers_help_at_once():
    started = time.monotonic()
    result = subprocess.run(
        [os.path.join(ROOT, "evaluate-extraction.sh"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "--extracted" in result.stdout
    assert time.monotonic() - started < 10


def _chosen_model(capsys, *args) -> str | None:
    assert main([*args, "--dry_run"]) == 0
    return json.loads(capsys.readouterr().out)["evaluation"]["model"]


def test_the_model_is_the_export_when_there_is_one_else_the_training_folder(
    corpus, tmp_path, capsys
):
    source, extracted, output = corpus
    export, training = tmp_path / "export", tmp_path / "training"
    base = ["--source", source, "--output", output]
    configured = [*base, "--export_path", str(export), "--model_path", str(training)]
    assert _chosen_model(capsys, *configured) == str(training)
    export.mkdir()
    assert _chosen_model(capsys, *configured) == str(export)
    assert _chosen_model(capsys, *configured, "--model", "/given") == "/given"
    assert _chosen_model(capsys, *configured, "--extracted", extracted) is None
    # a bucket's export is taken as it is: a cloud run reads it there
    remote = [*base, "--export_path", "gs://bucket/export", "--model_path", str(training)]
    assert _chosen_model(capsys, *remote) == "gs://bucket/export"
