"""The API against a real server (the oracle labeller in its worker): every answer is what
extract.sh gives in-process with the same labeller, byte for byte, in each format."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from PIL import Image

from sciencebeam_gym import __version__
from sciencebeam_gym.extract import extract_document
from sciencebeam_gym.extract.tei import article_to_tei_bytes
from tests.service.conftest import SYNTHETIC_PDF
from tests.service.oracle import load_oracle

PDF = SYNTHETIC_PDF


@pytest.fixture(autouse=True)
def no_file_left(oracle_server):
    """No request of these tests leaves a file in the server's temporary folder."""
    before = oracle_server.temp_files()
    yield
    assert oracle_server.temp_files() == before


@pytest.fixture(scope="module")
def oracle(answers):
    return load_oracle(str(answers))


def extracted(oracle, pages):
    return extract_document(PDF, oracle, pages, source="upload")


def test_the_oracle_knows_the_synthetic_article(oracle):
    article = extracted(oracle, None)
    assert (article.title, [a.surname for a in article.authors]) == (
        "Frogs Give Birth",
        ["Lee", "Ray"],
    )
    assert [s.title for s in article.sections] == ["Introduction", "Methods"]
    assert len(article.references) == 2


def test_convert_gives_jats_by_default_and_json_or_tei_by_accept(oracle_server, oracle):
    article = extracted(oracle, [1, 2])
    answers = {
        accept: oracle_server.client.post(
            "/api/convert?pages=1-2", content=PDF, headers={"Accept": accept} if accept else {}
        )
        for accept in ("", "application/json", "application/tei+xml", "text/html, */*;q=0.1")
    }
    assert {a.status_code for a in answers.values()} == {200}
    assert answers[""].content == article.to_jats_bytes()
    assert answers[""].headers["content-type"] == "application/xml"
    assert answers["application/json"].json() == json.loads(article.to_json())
    assert answers["application/tei+xml"].content == article_to_tei_bytes(article)
    assert answers["application/tei+xml"].headers["content-type"] == "application/tei+xml"
    assert answers["text/html, */*;q=0.1"].content == article.to_jats_bytes()
    as_form = oracle_server.client.post("/api/convert?pages=1-2", files={"file": ("upload", PDF)})
    assert as_form.content == article.to_jats_bytes()


def test_the_answer_carries_the_timings_of_each_stage(oracle_server):
    answer = oracle_server.client.post("/api/convert", content=PDF)
    parts = answer.headers["server-timing"].split(",")
    timings = dict(part.strip().split(";dur=") for part in parts)
    assert {"render", "model", "text", "assembly", "queue", "total"} <= set(timings)
    stages = sum(float(timings[name]) for name in ("render", "model", "text", "assembly"))
    assert 0 < stages <= float(timings["total"])


def test_grobid_paths_give_the_tei_of_the_header_and_of_the_chosen_pages(oracle_server, oracle):
    client = oracle_server.client
    header = client.post(
        "/api/processHeaderDocument",
        files={"input": ("upload", PDF, "application/pdf")},
        data={"consolidateHeader": "1", "includeRawAffiliations": "1", "unknownField": "x"},
        headers={"Accept": "text/plain"},  # what GROBID's client sends
    )
    assert header.status_code == 200
    assert header.content == article_to_tei_bytes(extracted(oracle, [1, 2]), header_only=True)
    fulltext = client.post(
        "/api/processFulltextDocument",
        files={"input": ("upload", PDF, "application/pdf")},
        data={"start": "2", "end": "3", "teiCoordinates": ["persName", "ref"]},
    )
    assert fulltext.content == article_to_tei_bytes(extracted(oracle, [2, 3]))
    from_page = client.post(
        "/api/processFulltextDocument", files={"input": ("upload", PDF)}, data={"start": "3"}
    )
    assert from_page.content == article_to_tei_bytes(extracted(oracle, [3]))


def test_bad_parameters_are_refused_with_what_to_send(oracle_server):
    client = oracle_server.client
    answer = client.post("/api/convert", content=PDF, headers={"Accept": "image/png"})
    assert (answer.status_code, answer.json()["reason"]) == (406, "not acceptable")
    answer = client.post("/api/convert?pages=first", content=PDF)
    assert answer.status_code == 400 and "pages" in answer.json()["detail"]
    answer = client.post("/api/convert?pages=9", content=PDF)
    assert (answer.status_code, answer.json()["reason"]) == (422, "page out of range")
    answer = client.post("/api/predict?output=sketch", content=PDF)
    assert answer.status_code == 400 and "painted, overlay, boxes" in answer.json()["detail"]


def test_view_gives_each_page_its_render_paint_and_field_words(oracle_server, oracle):
    answer = oracle_server.client.post("/api/view?pages=1-2", content=PDF)
    assert answer.status_code == 200
    view = answer.json()
    article = extracted(oracle, [1, 2])
    assert view["article"] == json.loads(article.to_json())
    assert view["jats"].encode() == article.to_jats_bytes()
    assert [p["number"] for p in view["pages"]] == [1, 2]
    for page in view["pages"]:
        assert decode(page["image"], "data:image/jpeg;base64,").size == (850, 1100)  # 100 dpi
        assert decode(page["paint"], "data:image/png;base64,").mode == "RGBA"
        assert (page["width"], page["height"]) == (612, 792)
    assert {entry["label"] for entry in view["legend"]} == {
        label for page in view["pages"] for label in page["labels"]
    }
    assert len(view["boxes"]["title"]) == 3 and len(view["boxes"]["references"]) == 2


def decode(url: str, prefix: str) -> Image.Image:
    assert url.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :])))


def test_plain_endpoints_the_page_and_the_api_docs(oracle_server, answers):
    client = oracle_server.client
    assert client.get("/api/isalive").text == "true"
    assert client.get("/api/version").text == __version__
    health = client.get("/api/health").json()
    assert health["model"] == str(answers) and health["ready"] is True
    assert health["pool"]["maxActive"] == 1 and health["limits"]["max_pages"] == 200
    page = client.get("/")
    assert page.status_code == 200 and "/static/page.js" in page.text
    for asset in ("/static/page.js", "/static/page.css"):
        assert client.get(asset).status_code == 200
    docs = client.get("/api/docs").text
    assert "swagger" in docs.lower()
    # the docs work offline: every script and style they load is served by the app itself
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    assert all(client.get(a).status_code == 200 for a in assets)
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/convert",
        "/api/predict",
        "/api/processHeaderDocument",
        "/api/processFulltextDocument",
        "/api/isalive",
        "/api/version",
    ):
        assert path in paths
    assert "multipart/form-data" in paths["/api/convert"]["post"]["requestBody"]["content"]
