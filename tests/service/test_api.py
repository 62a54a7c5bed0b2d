"""The API against a real server with the tiny exported TensorFlow model: every answer is what
extract.sh and predict.sh give in-process with the same model, byte for byte."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import pytest
from PIL import Image

from sciencebeam_gym import __version__
from sciencebeam_gym.extract import extract_document, load_model
from sciencebeam_gym.extract.tei import article_to_tei_bytes
from sciencebeam_gym.pdf_render import DEFAULT_MAX_PAGE_PIXELS
from sciencebeam_gym.serving import predict
from tests.extract.pages import Text, make_pdf, paragraph
from tests.generate.factory import pdf_bytes
from tests.serving.conftest import draw_page, png_bytes

PAGES = [
    [
        Text(72, 80, 20, "Frogs Give Birth", "manuscript_title"),
        Text(72, 110, 11, "Ann Lee, Bob Ray", "author"),
        *paragraph(72, 160, ["Abstract", "Frogs were seen."], "abstract"),
        Text(72, 220, 12, "Introduction", "section_title"),
        *paragraph(72, 240, ["Frogs are many."], "section_paragraph"),
    ],
    [*paragraph(72, 80, ["1. Lee A. Frogs. 2001.", "2. Ray B. Toads. 2002."], "reference")],
    [*paragraph(72, 80, ["A third page."], "section_paragraph")],
]
PDF = make_pdf(PAGES)


@pytest.fixture(scope="module")
def model(tiny_export):
    return load_model(str(tiny_export))


def extracted(model, pages):
    return extract_document(PDF, model, pages, source="upload")


def test_convert_gives_jats_by_default_and_json_or_tei_by_accept(tf_server, model):
    article = extracted(model, [1, 2])
    answers = {
        accept: tf_server.client.post(
            "/api/convert?pages=1-2", content=PDF, headers={"Accept": accept} if accept else {}
        )
        for accept in ("", "application/json", "application/tei+xml", "text/html, */*;q=0.1")
    }
    assert {a.status_code for a in answers.values()} == {200}
    assert answers[""].content == article.to_jats_bytes()
    assert answers[""].headers["content-type"] == "application/xml"
    assert answers["application/json"].json() == json.loads(article.to_json())
    assert answers["application/tei+xml"].content == article_to_tei_bytes(article)
    assert answers["text/html, */*;q=0.1"].content == article.to_jats_bytes()


def test_the_answer_carries_the_timings_of_each_stage(tf_server):
    answer = tf_server.client.post("/api/convert", content=PDF)
    timings = dict(
        part.strip().split(";dur=") for part in answer.headers["server-timing"].split(",")
    )
    assert {"render", "model", "text", "assembly", "queue", "total"} <= set(timings)
    stages = sum(float(timings[name]) for name in ("render", "model", "text", "assembly"))
    assert 0 < stages <= float(timings["total"])


def test_grobid_paths_give_the_tei_of_the_header_and_of_the_chosen_pages(tf_server, model):
    header = tf_server.client.post(
        "/api/processHeaderDocument",
        files={"input": ("upload", PDF, "application/pdf")},
        data={"consolidateHeader": "1", "includeRawAffiliations": "1", "unknownField": "x"},
    )
    assert header.status_code == 200
    assert header.content == article_to_tei_bytes(extracted(model, [1, 2]), header_only=True)
    fulltext = tf_server.client.post(
        "/api/processFulltextDocument",
        files={"input": ("upload", PDF, "application/pdf")},
        data={"start": "2", "end": "3", "teiCoordinates": ["persName", "ref"]},
    )
    assert fulltext.content == article_to_tei_bytes(extracted(model, [2, 3]))
    only_from = tf_server.client.post(
        "/api/processFulltextDocument", files={"input": ("upload", PDF)}, data={"start": "3"}
    )
    assert only_from.content == article_to_tei_bytes(extracted(model, [3]))


def test_bad_parameters_are_refused_with_what_to_send(tf_server):
    answer = tf_server.client.post("/api/convert", content=PDF, headers={"Accept": "image/png"})
    assert (answer.status_code, answer.json()["reason"]) == (406, "not acceptable")
    answer = tf_server.client.post("/api/convert?pages=first", content=PDF)
    assert answer.status_code == 400 and "pages" in answer.json()["detail"]
    answer = tf_server.client.post("/api/convert?pages=9", content=PDF)
    assert (answer.status_code, answer.json()["reason"]) == (422, "page out of range")


@pytest.mark.parametrize("output", ["painted", "overlay", "boxes"])
def test_predict_gives_what_predict_sh_writes(tf_server, tiny_export, tmp_path, output):
    page = tmp_path / "doc-page1.png"
    draw_page(seed=3).save(page)
    args = [str(page), str(tmp_path / "out"), "--saved_model", str(tiny_export)]
    assert predict.main([*args, "--overlay", "--boxes"]) == 0
    written = {
        "painted": "doc-page1.out.png",
        "overlay": "doc-page1.overlay.png",
        "boxes": "doc-page1.boxes.json",
    }
    answer = tf_server.client.post(
        f"/api/predict?output={output}", files={"input": (page.name, page.read_bytes())}
    )
    assert answer.status_code == 200
    assert answer.content == (tmp_path / "out" / written[output]).read_bytes()
    if output == "boxes":
        by_accept = tf_server.client.post(
            "/api/predict",
            files={"input": (page.name, page.read_bytes())},
            headers={"Accept": "application/json"},
        )
        assert by_accept.content == answer.content


def test_predict_paints_a_pdf_page_bomb_within_the_pixel_cap(tf_server):
    giant = pdf_bytes([(72, 700, 10, "giant")], page_size=(14400, 14400))
    answer = tf_server.client.post("/api/predict?page=1", content=giant)
    assert answer.status_code == 200
    width, height = Image.open(io.BytesIO(answer.content)).size
    assert width * height <= DEFAULT_MAX_PAGE_PIXELS
    assert width > 4000  # scaled to fit the cap, not to a thumbnail


def image_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims width x height (a decompression bomb's shape)."""
    data = bytearray(png_bytes(Image.new("L", (8, 8), 255)))
    start = data.index(b"IHDR")
    data[start + 4 : start + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[start : start + 17]))
    data[start + 17 : start + 21] = struct.pack(">I", crc)
    return bytes(data)


def test_predict_refuses_an_image_bomb_and_a_missing_page(tf_server):
    answer = tf_server.client.post("/api/predict", content=image_claiming(30000, 30000))
    assert (answer.status_code, answer.json()["reason"]) == (422, "image_too_large")
    answer = tf_server.client.post("/api/predict?page=7", content=PDF)
    assert (answer.status_code, answer.json()["reason"]) == (422, "page out of range")
    answer = tf_server.client.post("/api/predict", content=b"not an image at all")
    assert (answer.status_code, answer.json()["reason"]) == (400, "not_an_image")


def test_view_gives_each_page_its_render_and_paint(tf_server, model):
    answer = tf_server.client.post("/api/view?pages=1-2", content=PDF)
    assert answer.status_code == 200
    view = answer.json()
    assert view["article"] == json.loads(extracted(model, [1, 2]).to_json())
    assert view["jats"].encode() == extracted(model, [1, 2]).to_jats_bytes()
    assert [p["number"] for p in view["pages"]] == [1, 2]
    for page in view["pages"]:
        render = decode(page["image"], "data:image/jpeg;base64,")
        paint = decode(page["paint"], "data:image/png;base64,")
        assert render.size == (850, 1100)  # US Letter at 100 dpi
        assert (paint.mode, paint.size) == ("RGBA", (32, 32))  # the tiny model's classes
        assert (page["width"], page["height"]) == (612, 792)
    painted = {label for page in view["pages"] for label in page["labels"]}
    assert {entry["label"] for entry in view["legend"]} == painted
    assert set(view["boxes"]) == {
        "title",
        "authors",
        "affiliations",
        "abstract",
        "keywords",
        "sections",
        "references",
    }


def decode(url: str, prefix: str) -> Image.Image:
    assert url.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :])))


def test_plain_endpoints_the_page_and_the_api_docs(tf_server, tiny_export):
    client = tf_server.client
    assert client.get("/api/isalive").text == "true"
    assert client.get("/api/version").text == __version__
    health = client.get("/api/health").json()
    assert health["model"] == str(tiny_export) and health["ready"] is True
    assert health["pool"]["maxActive"] == 1
    page = client.get("/")
    assert page.status_code == 200 and "/static/page.js" in page.text
    for asset in ("/static/page.js", "/static/page.css"):
        assert client.get(asset).status_code == 200
    assert "swagger" in client.get("/api/docs").text.lower()
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
