"""The Beam pipeline end to end (DirectRunner) on PDFs and XML made in code, good and bad."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sciencebeam_gym.color_map import UNKNOWN_KEY, default_color_map_path, load_color_map
from sciencebeam_gym.generate.pipeline import main
from tests.generate.factory import article_lines, article_xml, pdf_bytes, publisher_xml

# what the preprocessing step reads (see doc/generate-data.md)
PREPROCESS_GLOB = "*/*/*/*-page[0-9]*.png"
ANNOTATION_RE = re.compile(r"\btarget\b|\bannot")


def write_corpus(folder: Path, good: int = 2, bad: bool = True) -> None:
    folder.mkdir(parents=True)
    for index in range(good):
        (folder / f"good{index}.pdf").write_bytes(pdf_bytes(article_lines()))
        (folder / f"good{index}.xml").write_bytes(article_xml())
    if bad:
        cases = {
            "encrypted": (pdf_bytes(article_lines(), encrypt=True), article_xml()),
            "corrupt": (b"%PDF-1.4\n garbage", article_xml()),
            "empty": (b"", article_xml()),
            "badxml": (pdf_bytes(article_lines()), b"<article><front>"),
            "nofields": (pdf_bytes(article_lines()), b"<article><body/></article>"),
            "scanned": (pdf_bytes(draw_only=True), article_xml()),
        }
        for name, (pdf, xml) in cases.items():
            (folder / f"{name}.pdf").write_bytes(pdf)
            (folder / f"{name}.xml").write_bytes(xml)
        (folder / "lonely.pdf").write_bytes(pdf_bytes(article_lines()))


@pytest.mark.slow
def test_pipeline_writes_pages_labels_report_and_skips_bad_input(tmp_path, capsys):
    source = tmp_path / "source"
    output = tmp_path / "data"
    write_corpus(source)
    code = main(
        [
            "--source",
            str(source),
            "--output_path",
            str(output),
            "--dpi",
            "40",
            "--test_fraction",
            "0.5",
            "--write_overlay",
        ]
    )
    assert code == 0
    pngs = sorted(output.glob(PREPROCESS_GLOB))
    annotations = [p for p in pngs if ANNOTATION_RE.search(str(p))]
    pages = [p for p in pngs if not ANNOTATION_RE.search(str(p))]
    assert len(annotations) == len(pages) == 2  # only the good documents
    assert len(list(output.glob("*/*/*/*.tokens.json"))) == 2  # beside each page, no other
    for page in pages:
        split, group, doc_id = page.relative_to(output).parts[:3]
        assert split in ("train", "test") and group == "source"
        assert page.name == f"{doc_id}-page1.png"
        label = np.asarray(Image.open(page.with_name(f"{doc_id}-page1.annot.png")))
        assert label.shape == Image.open(page).size[::-1]
        keys = set(np.unique(label).tolist()) - {0}
        color_map = load_color_map(default_color_map_path())
        assert keys <= {*color_map.keys, UNKNOWN_KEY}
        assert color_map.class_by_label("manuscript_title").key in keys

    report = json.loads((output / "generate-report" / "report.json").read_text())
    status = {d["doc_id"]: (d["status"], d["reason"]) for d in report["documents"]}
    assert status["good0"] == ("ok", "") and status["good1"] == ("ok", "")
    assert status["encrypted"] == ("skipped", "encrypted PDF")
    assert status["corrupt"] == ("skipped", "corrupt PDF")
    assert status["empty"] == ("skipped", "empty PDF")
    assert status["badxml"] == ("skipped", "XML does not parse")
    assert status["nofields"] == ("skipped", "no matching fields")
    assert status["scanned"] == ("skipped", "no text layer")
    assert status["lonely"] == ("skipped", "missing XML partner")
    title = report["summary"]["labels"]["manuscript_title"]
    assert title["found_on_page"] == 2 and title["coverage"] == 1.0
    fields_csv = (output / "generate-report" / "fields.csv").read_text().splitlines()
    assert fields_csv[0].startswith("doc_id,page,label")
    pages_csv = (output / "generate-report" / "pages.csv").read_text().splitlines()
    assert pages_csv[0] == (
        "doc_id,page,pixels,text_pixels,unknown_pixels,unknown_fraction,"
        "unknown_text_fraction,classes,words,words_cut"
    )
    assert len(pages_csv) == 3 and "manuscript_title" in pages_csv[1]
    unknown = report["summary"]["unknown"]
    assert unknown["pages"] == 2 and 0 <= unknown["unknown_text_fraction"] < 1
    assert len(list((output / "generate-report" / "overlays").glob("*.png"))) == 2
    assert "manuscript_title" in capsys.readouterr().out  # the summary table


@pytest.mark.slow
def test_pipeline_fails_only_when_nothing_was_produced(tmp_path, capsys):
    source = tmp_path / "source"
    source.mkdir()
    (source / "scan.pdf").write_bytes(pdf_bytes(draw_only=True))
    (source / "scan.xml").write_bytes(article_xml())
    assert (
        main(["--source", str(source), "--output_path", str(tmp_path / "out"), "--dpi", "30"]) == 1
    )
    assert "no page was produced" in capsys.readouterr().err


def test_user_errors_exit_2_without_traceback(tmp_path, capsys):
    code = main(["--source", str(tmp_path / "missing"), "--output_path", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    bad_mapping = tmp_path / "m.conf"
    bad_mapping.write_text("[fields]\nsparkle = front\n")
    (tmp_path / "src").mkdir()
    code = main(
        [
            "--source",
            str(tmp_path / "src"),
            "--output_path",
            str(tmp_path / "o"),
            "--xml_mapping",
            str(bad_mapping),
        ]
    )
    assert code == 2 and "sparkle" in capsys.readouterr().err


def test_cloud_flag_adds_the_dataflow_options_of_the_configuration(monkeypatch, tmp_path):
    from argparse import Namespace

    from sciencebeam_gym.generate.pipeline import _pipeline_args

    settings = {"PROJECT": "my-project", "BUCKET": "gs://my-bucket", "REGION": "europe-west1"}
    settings.update(SUB_PROJECT_NAME="sciencebeam", MAX_NUM_WORKERS="3", GYM_ROOT=str(tmp_path))
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    args = _pipeline_args(Namespace(cloud=True, job_name="generate data"), ["--extra"])
    assert args[args.index("--runner") + 1] == "DataflowRunner"
    assert args[args.index("--project") + 1] == "my-project"
    assert args[-1] == "--extra"
    # the workers install the generate extra (PDF rendering, XML, matching) beside the core
    requirements = Path(args[args.index("--requirements_file") + 1]).read_text()
    assert "pypdfium2" in requirements and "tensorflow" not in requirements
    assert _pipeline_args(Namespace(cloud=False, job_name=None), ["--x"]) == ["--x"]


@pytest.mark.slow
def test_generate_data_script_writes_into_the_configured_data_path(tmp_path):
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    source = tmp_path / "source"
    write_corpus(source, good=1, bad=False)
    env = {**os.environ, "LOCAL_PATH_ROOT": str(tmp_path / "models"), "GYM_QUIET": "true"}
    env.pop("GYM_CONFIG_FILE", None)
    env["GYM_CONFIG_FILE"] = str(tmp_path / "no-config")
    result = subprocess.run(
        [str(root / "generate-data.sh"), "--source", str(source), "--dpi", "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = tmp_path / "models" / "pix2pix" / "v4" / "data"
    assert len(list(data.glob("*/source/good0/good0-page1.annot.png"))) == 1
    assert (data / "generate-report" / "documents.csv").exists()


def test_a_misspelt_flag_stops_generate_data_before_anything_runs(tmp_path):
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    source = tmp_path / "source"
    write_corpus(source, good=1, bad=False)
    env = {**os.environ, "LOCAL_PATH_ROOT": str(tmp_path / "models"), "GYM_QUIET": "true"}
    env["GYM_CONFIG_FILE"] = str(tmp_path / "no-config")
    result = subprocess.run(
        [str(root / "generate-data.sh"), "--source", str(source), "--dpii", "72"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert "--dpii (did you mean --dpi?)" in result.stderr
    assert not (tmp_path / "models").exists()


def test_beam_options_reach_beam_and_kebab_flags_are_ours(tmp_path, capsys):
    source = tmp_path / "source"
    write_corpus(source, good=1, bad=False)
    output = tmp_path / "out"
    code = main(
        ["--source", str(source), "--output-path", str(output), "--dpi", "30"]
        + ["--runner", "DirectRunner", "--direct_num_workers", "1", "--direct-running-mode"]
        + ["in_memory"]
    )
    assert code == 0, capsys.readouterr().err
    assert len(list(output.glob("*/source/good0/good0-page1.png"))) == 1
    assert "Discarding unparseable args" not in capsys.readouterr().err


def make_settings(output: Path, **changes):
    from sciencebeam_gym.document.xml_mapping import default_xml_mapping_path, load_xml_mapping
    from sciencebeam_gym.generate.document import Settings

    values = dict(
        output_path=str(output),
        color_map=load_color_map(default_color_map_path()),
        mapping=load_xml_mapping(default_xml_mapping_path()),
        dpi=30.0,
        test_fraction=0.0,
        group="g",
    )
    return Settings(**{**values, **changes})


def two_page_document(source: Path, pages: int = 2):
    from sciencebeam_gym.document.sources import SourcePair

    source.mkdir()
    (source / "doc.pdf").write_bytes(pdf_bytes(article_lines(), pages=pages))
    (source / "doc.xml").write_bytes(article_xml())
    return SourcePair("doc", str(source / "doc.pdf"), str(source / "doc.xml"))


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


@pytest.mark.parametrize("writes_before_kill", [0, 1, 2, 3])
def test_a_killed_rerun_never_pairs_a_page_with_a_label_of_another_run(
    tmp_path, monkeypatch, writes_before_kill
):
    from sciencebeam_gym.generate.document import process_pair
    from sciencebeam_gym.storage import fs

    pair = two_page_document(tmp_path / "source")
    output = tmp_path / "data"
    assert process_pair(pair, make_settings(output, dpi=30.0, pages=(1, 2))).pages == [1, 2]

    real_write, calls = fs.write_bytes, []

    def write_then_die(path, data):
        if len(calls) == writes_before_kill:
            raise KeyboardInterrupt  # like a kill -9: nothing after this point runs
        calls.append(path)
        real_write(path, data)

    monkeypatch.setattr(fs, "write_bytes", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        process_pair(pair, make_settings(output, dpi=45.0, pages=(1, 2)))
    for label in output.glob("*/g/doc/*.annot.png"):
        page = label.with_name(label.name.replace(".annot.png", ".png"))
        assert page.exists() and image_size(page) == image_size(label), label.name


def test_a_rerun_removes_the_pages_it_no_longer_writes(tmp_path):
    from sciencebeam_gym.generate.document import process_pair

    source = tmp_path / "source"
    pair = two_page_document(source, pages=3)
    output = tmp_path / "data"
    assert process_pair(pair, make_settings(output, pages=(), test_fraction=1.0)).pages == [1, 2, 3]
    assert len(list(output.glob("test/g/doc/*.png"))) == 6
    # another split and fewer pages: nothing of the first run is left to mix in
    assert process_pair(pair, make_settings(output, pages=(1,), test_fraction=0.0)).pages == [1]
    assert sorted(p.relative_to(output).as_posix() for p in output.glob("*/g/doc/*.png")) == [
        "train/g/doc/doc-page1.annot.png",
        "train/g/doc/doc-page1.png",
    ]
    (source / "doc.xml").write_bytes(b"<article><front>")  # now skipped: its pages go too
    assert process_pair(pair, make_settings(output)).status == "skipped"
    assert not list(output.glob("*/g/doc/*.png"))


def test_each_page_gets_a_token_file_with_the_classes_the_alignment_gave(tmp_path):
    from sciencebeam_gym.document.tokens import read_tokens
    from sciencebeam_gym.generate.document import process_pair
    from tests.generate.factory import AFFILIATION, TITLE

    pair = two_page_document(tmp_path / "source")
    output = tmp_path / "data"
    result = process_pair(pair, make_settings(output, pages=(1, 2)))
    assert sorted(p for p in result.outputs if p.endswith(".tokens.json")) == [
        str(output / "train" / "g" / "doc" / f"doc-page{n}.tokens.json") for n in (1, 2)
    ]
    tokens = read_tokens(str(output / "train" / "g" / "doc" / "doc-page1.tokens.json"))
    assert (tokens.doc_id, tokens.page, tokens.pages, tokens.group) == ("doc", 1, 2, "g")
    by_label: dict[str, list[str]] = {}
    for word in tokens.words:
        by_label.setdefault(word.label, []).append(word.text)
    assert " ".join(by_label["manuscript_title"]) == TITLE
    assert " ".join(by_label["author_aff"]).endswith(AFFILIATION)
    assert by_label["section_title"] == ["1.", "Introduction"]
    # one instance per JATS element; the title's words share one
    pairs = list(zip(tokens.words, tokens.instances, strict=True))
    title = {i for w, i in pairs if w.label == "manuscript_title"}
    affiliation = {i for w, i in pairs if w.label == "author_aff"}
    assert len(title) == len(affiliation) == 1 and title != affiliation and -1 not in title
    assert tokens.words[0].font.name and tokens.words[0].size > tokens.words[-1].size
    # a skipped rerun takes the token files with the pages
    (tmp_path / "source" / "doc.xml").write_bytes(b"<article><front>")
    assert process_pair(pair, make_settings(output)).status == "skipped"
    assert not list(output.glob("*/g/doc/*"))


def test_a_page_of_too_many_words_keeps_the_first_in_its_token_file_with_a_warning(
    tmp_path, monkeypatch
):
    from sciencebeam_gym.document import tokens as token_module
    from sciencebeam_gym.document.tokens import read_tokens
    from sciencebeam_gym.generate import report
    from sciencebeam_gym.generate.document import process_pair

    monkeypatch.setattr(token_module, "MAX_PAGE_TOKENS", 5)
    monkeypatch.setattr(report, "MAX_PAGE_TOKENS", 5)
    pair = two_page_document(tmp_path / "source", pages=1)
    result = process_pair(pair, make_settings(tmp_path / "data"))
    tokens = read_tokens(str(tmp_path / "data" / "train" / "g" / "doc" / "doc-page1.tokens.json"))
    assert len(tokens.words) == 5 and tokens.truncated > 5
    assert result.page_rows[0]["words"] == tokens.truncated
    assert result.page_rows[0]["words_cut"] == tokens.truncated
    summary = report.format_summary(report.write_report(str(tmp_path / "data"), [result], {}))
    assert "warning: 1 pages have more than 5 words" in summary


def test_a_killed_rerun_never_leaves_a_token_file_of_another_run_beside_a_page(
    tmp_path, monkeypatch
):
    from sciencebeam_gym.document.tokens import read_tokens
    from sciencebeam_gym.generate.document import process_pair
    from sciencebeam_gym.storage import fs

    pair = two_page_document(tmp_path / "source", pages=1)
    output = tmp_path / "data"
    process_pair(pair, make_settings(output, dpi=30.0))
    real_write = fs.write_bytes

    def die_before_tokens(path, data):
        if path.endswith(".tokens.json"):
            raise KeyboardInterrupt
        real_write(path, data)

    monkeypatch.setattr(fs, "write_bytes", die_before_tokens)
    with pytest.raises(KeyboardInterrupt):
        process_pair(pair, make_settings(output, dpi=45.0))
    assert not list(output.glob("*/g/doc/*.tokens.json"))  # the old one went first
    monkeypatch.undo()
    process_pair(pair, make_settings(output, dpi=45.0))
    assert read_tokens(str(output / "train" / "g" / "doc" / "doc-page1.tokens.json")).page == 1


@pytest.mark.slow
def test_an_interrupted_rerun_leaves_no_report(tmp_path, monkeypatch):
    from sciencebeam_gym.generate import pipeline

    source, output = tmp_path / "source", tmp_path / "data"
    write_corpus(source, good=1, bad=False)
    args = ["--source", str(source), "--output_path", str(output), "--dpi", "30"]
    assert main(args) == 0
    assert (output / "generate-report" / "report.json").exists()

    def killed(pair, settings):
        raise RuntimeError("killed")

    monkeypatch.setattr(pipeline, "process_pair", killed)
    with pytest.raises(Exception, match="killed"):
        main([*args[:-1], "45"])
    assert not list((output / "generate-report").glob("*.json"))
    assert not list((output / "generate-report").glob("*.csv"))


@pytest.mark.slow
def test_undecodable_file_names_are_skipped_and_the_report_written(tmp_path):
    import os

    source = tmp_path / "source"
    write_corpus(source, good=1, bad=False)
    for suffix, data in ((b".pdf", pdf_bytes(article_lines())), (b".xml", article_xml())):
        with open(os.path.join(os.fsencode(str(source)), b"caf\xe9" + suffix), "wb") as f:
            f.write(data)
    output = tmp_path / "data"
    assert main(["--source", str(source), "--output_path", str(output), "--dpi", "30"]) == 0
    report = json.loads((output / "generate-report" / "report.json").read_text("utf-8"))
    status = {d["doc_id"]: (d["status"], d["reason"], d["pdf"]) for d in report["documents"]}
    assert status["good0"][:2] == ("ok", "")
    assert status["caf"] == ("skipped", "undecodable file name", f"{source}/caf\\xe9.pdf")
    assert len(list(output.glob("*/*/good0/*.png"))) == 2


@pytest.mark.slow
def test_a_source_folder_with_glob_characters_is_found(tmp_path):
    source = tmp_path / "pdf-jats[1]"
    write_corpus(source, good=1, bad=False)
    output = tmp_path / "out[2]"
    assert main(["--source", str(source), "--output_path", str(output), "--dpi", "30"]) == 0
    assert len(list(output.glob("*/*/good0/good0-page1*.png"))) == 2
    assert (output / "generate-report" / "report.json").exists()


def test_a_documents_own_group_decides_its_folder(tmp_path):
    import dataclasses

    from sciencebeam_gym.generate.document import process_pair

    pair = dataclasses.replace(two_page_document(tmp_path / "source"), group="plos")
    output = tmp_path / "data"
    assert process_pair(pair, make_settings(output, pages=(1,))).status == "ok"
    assert [p.relative_to(output).as_posix() for p in sorted(output.rglob("*.png"))] == [
        "train/plos/doc/doc-page1.annot.png",
        "train/plos/doc/doc-page1.png",
    ]


def test_test_pages_choose_the_pages_of_test_documents_only(tmp_path):
    from sciencebeam_gym.generate.document import process_pair

    pair = two_page_document(tmp_path / "source", pages=3)
    output = tmp_path / "data"
    for fraction, expected in ((1.0, [1]), (0.0, [1, 2, 3])):
        settings = make_settings(output, pages=(), test_pages=(1,), test_fraction=fraction)
        assert process_pair(pair, settings).pages == expected


def test_group_publisher_places_each_document_under_its_publisher(tmp_path):
    from sciencebeam_gym.generate.document import process_pair

    pair = two_page_document(tmp_path / "source")
    xml = publisher_xml("MDPI")
    assert xml != article_xml()
    (tmp_path / "source" / "doc.xml").write_bytes(xml)
    output = tmp_path / "data"
    settings = make_settings(output, pages=(1,), group_by_publisher=True)
    assert process_pair(pair, settings).status == "ok"
    assert sorted(p.parent.parent.name for p in output.rglob("*.png")) == ["mdpi", "mdpi"]


@pytest.mark.slow
def test_a_folder_mixing_publishers_and_broken_pairs_is_sorted_and_reported(tmp_path):
    source = tmp_path / "source"
    write_corpus(source, good=0)  # the broken pairs only
    for name, publisher in (("a", "MDPI"), ("b", "Frontiers Media S.A."), ("c", "MDPI")):
        (source / f"{name}.pdf").write_bytes(pdf_bytes(article_lines()))
        (source / f"{name}.xml").write_bytes(publisher_xml(publisher))
    output = tmp_path / "data"
    args = ["--source", str(source), "--output_path", str(output), "--dpi", "30"]
    assert main([*args, "--group", "publisher", "--test_fraction", "0"]) == 0
    folders = sorted(p.parent.relative_to(output).as_posix() for p in output.glob("*/*/*/*.png"))
    assert sorted(set(folders)) == ["train/frontiers/b", "train/mdpi/a", "train/mdpi/c"]
    report = json.loads((output / "generate-report" / "report.json").read_text())
    reasons = {d["doc_id"]: d["reason"] for d in report["documents"] if d["status"] != "ok"}
    assert {"badxml", "corrupt", "empty", "encrypted", "scanned", "lonely"} <= set(reasons)
    assert report["settings"]["group"] == "publisher"


def test_unknown_text_flag_reaches_the_settings_and_refuses_other_values(tmp_path, capsys):
    from sciencebeam_gym.generate.pipeline import _settings, build_parser

    base = ["--source", str(tmp_path), "--output_path", str(tmp_path / "data")]
    assert _settings(build_parser().parse_args(base)).unknown_text == "unknown"
    background = build_parser().parse_args([*base, "--unknown_text", "background"])
    assert _settings(background).unknown_text == "background"
    with pytest.raises(SystemExit):
        build_parser().parse_args([*base, "--unknown_text", "grey"])
    assert "invalid choice" in capsys.readouterr().err
