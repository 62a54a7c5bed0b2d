"""extract.sh and its module: many documents, bad ones reported, a tiny real exported model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from sciencebeam_gym.extract.cli import main
from tests.extract.conftest import REPO_ROOT, real_article
from tests.extract.pages import Text, make_pdf, paragraph
from tests.generate.factory import pdf_bytes

PAGE = [Text(72, 80, 20, "A Title", "manuscript_title"), *paragraph(72, 120, ["Some text."], "")]


def write_inputs(folder):
    folder.mkdir()
    (folder / "good.pdf").write_bytes(make_pdf([PAGE, PAGE]))
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\ngarbage")
    (folder / "locked.pdf").write_bytes(pdf_bytes([(72, 700, 10, "x")], encrypt=True))
    (folder / "scan.pdf").write_bytes(pdf_bytes(draw_only=True))
    return folder


def test_help_answers_without_importing_tensorflow():
    code = (
        "import sys\nfrom sciencebeam_gym.extract.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('tensorflow' in sys.modules, 'apache_beam' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert "--pages" in result.stdout
    assert result.stdout.strip().endswith("False False")


def test_a_folder_with_bad_documents_extracts_the_good_ones_and_reports_the_rest(
    tmp_path, tiny_export, capsys
):
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "out"
    status = main([str(inputs), str(out), "--saved_model", str(tiny_export), "--format", "json"])
    captured = capsys.readouterr()
    assert status == 1  # some documents could not be extracted
    assert sorted(p.name for p in out.iterdir()) == ["good.json", "scan.json"]
    good = json.loads((out / "good.json").read_text())
    assert good["pages"] == 2 and good["source"].endswith("good.pdf")
    assert json.loads((out / "scan.json").read_text())["warnings"][0].startswith("no text layer")
    for name, reason in [("empty", "empty PDF"), ("broken", "corrupt PDF"), ("locked", "encrypt")]:
        assert any(name in line and reason in line for line in captured.err.splitlines())
    assert "2 of 5 documents written" in captured.out
    assert "3 could not be extracted" in captured.err


def test_a_run_where_nothing_can_be_read_exits_2(tmp_path, tiny_export, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "empty.pdf").write_bytes(b"")
    assert main([str(inputs), str(tmp_path / "out"), "--saved_model", str(tiny_export)]) == 2
    assert not list((tmp_path / "out").iterdir())


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys):
    pdf = tmp_path / "good.pdf"
    pdf.write_bytes(make_pdf([PAGE]))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main([str(pdf), str(blocker / "out"), "--saved_model", "/nowhere"]) == 2
    error = capsys.readouterr().err
    assert "cannot be written" in error and "pass another OUTPUT" in error


def test_a_file_list_names_pdfs_relative_to_itself(tmp_path, tiny_export):
    inputs = write_inputs(tmp_path / "in")
    listing = tmp_path / "in" / "list.txt"
    listing.write_text("# the good one\ngood.pdf\n")
    assert main([str(listing), "--saved_model", str(tiny_export)]) == 0
    root = etree.parse(str(inputs / "list-extracted" / "good.xml")).getroot()
    assert root.tag == "article" and root.find("front/article-meta") is not None


def test_cloud_dry_run_prints_the_dataflow_job_offline(tmp_path, capsys, monkeypatch):
    inputs = write_inputs(tmp_path / "in")
    monkeypatch.setenv("PROJECT", "my-project")
    monkeypatch.setenv("BUCKET", "gs://my-bucket")
    # the settings prepare-shell.sh exports for every cloud run
    for key, value in {"SUB_PROJECT_NAME": "sciencebeam", "REGION": "us-central1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MAX_NUM_WORKERS", "10")
    argv = [str(inputs), "gs://my-bucket/out", "--cloud", "--dry_run", "--saved_model", "gs://m"]
    assert main([*argv, "--job_name", "extract-x", "--num_workers", "2"]) == 0
    plan = json.loads(capsys.readouterr().out)
    options = plan["pipeline_options"]
    assert options[options.index("--runner") + 1] == "DataflowRunner"
    assert options[-2:] == ["--num_workers", "2"]
    assert plan["documents"] == 5 and plan["settings"]["output"] == "gs://my-bucket/out"


@pytest.mark.slow
def test_extract_sh_writes_jats_for_the_plos_article(tmp_path, tiny_export):
    pdf, _xml = real_article("plos-pone-0115884")
    env = dict(os.environ, GYM_QUIET="true", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    result = subprocess.run(
        ["./extract.sh", str(pdf), str(tmp_path), "--saved-model", str(tiny_export)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    root = etree.parse(str(tmp_path / "plos-pone-0115884.xml")).getroot()
    assert root.tag == "article"
    assert root.find("front/article-meta/title-group/article-title") is not None
    assert root.find("back") is not None


@pytest.mark.slow
def test_the_beam_pipeline_extracts_on_the_direct_runner(tmp_path, tiny_export):
    from sciencebeam_gym.extract.pipeline import REPORT_NAME, JobSettings, run_beam

    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "out"
    settings = JobSettings(str(tiny_export), "", str(out), "xml", (1,), 50.0)
    pdfs = sorted(str(p) for p in inputs.iterdir())
    jobs = [(pdf, str(out / os.path.basename(pdf).replace(".pdf", ".xml"))) for pdf in pdfs]
    results = run_beam(jobs, settings, ["--runner", "DirectRunner"])
    by_name = {os.path.basename(r["pdf"]): r for r in results}
    assert [n for n, r in sorted(by_name.items()) if r["status"] == "ok"] == [
        "good.pdf",
        "scan.pdf",
    ]
    assert by_name["empty.pdf"]["reason"] == "empty PDF"
    assert etree.parse(str(out / "good.xml")).getroot().tag == "article"
    assert (out / REPORT_NAME).exists()


def test_pages_are_rendered_at_the_dpi_of_the_model_unless_one_is_given(tmp_path, tiny_export):
    from sciencebeam_gym.document.pdf import DEFAULT_DPI
    from sciencebeam_gym.extract import load_model
    from sciencebeam_gym.serving import export
    from sciencebeam_gym.serving.metadata import METADATA_FILENAME

    assert load_model(str(tiny_export)).dpi == DEFAULT_DPI
    assert load_model(str(tiny_export), dpi=50).dpi == 50
    source = json.loads((tiny_export / METADATA_FILENAME).read_text())["source_checkpoint"]
    training = Path(source).parents[1]  # <training>/checkpoints/ckpt-N
    at_36 = tmp_path / "export"
    args = ["--model_path", str(training), "--export_path", str(at_36), "--dpi", "36"]
    assert export.main(args) == 0
    assert load_model(str(at_36)).dpi == 36
    assert load_model(str(at_36), dpi=72).dpi == 72
    # a training folder records no dpi: the one default
    assert load_model(str(training)).dpi == DEFAULT_DPI
