"""The service with a real exported TensorFlow model (the tiny test export) in its worker
process: the model loads there once, and its answers are what extract.sh and predict.sh give
in-process with the same model, byte for byte. Slow: TensorFlow starts in the worker."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from sciencebeam_gym.document.pdf import DEFAULT_MAX_PAGE_PIXELS
from sciencebeam_gym.extract import extract_document, load_model
from tests.generate.factory import pdf_bytes
from tests.service.conftest import SYNTHETIC_PDF
from tests.serving.conftest import draw_page, png_bytes

pytestmark = pytest.mark.slow


def test_convert_gives_what_extract_sh_gives_with_the_model(tf_server, tiny_export):
    article = extract_document(SYNTHETIC_PDF, load_model(str(tiny_export)), source="upload")
    answer = tf_server.client.post("/api/convert", content=SYNTHETIC_PDF)
    assert answer.status_code == 200
    assert answer.content == article.to_jats_bytes()
    assert tf_server.health()["model"] == str(tiny_export)


@pytest.mark.parametrize("output", ["painted", "overlay", "boxes"])
def test_predict_gives_what_predict_sh_writes(tf_server, tiny_export, tmp_path, output):
    from sciencebeam_gym.serving import predict  # TensorFlow: imported when the test runs

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
    answer = tf_server.client.post("/api/predict?page=7", content=SYNTHETIC_PDF)
    assert (answer.status_code, answer.json()["reason"]) == (422, "page out of range")
    answer = tf_server.client.post("/api/predict", content=b"not an image at all")
    assert (answer.status_code, answer.json()["reason"]) == (400, "not_an_image")


def test_a_gzip_bomb_to_predict_is_refused_as_the_clients_input(tf_server):
    import gzip

    from sciencebeam_gym.document.limits import MAX_PDF_BYTES

    # a quarter of a megabyte that would expand past the decompression cap
    bomb = gzip.compress(b"%PDF-1.4\n" + bytes(MAX_PDF_BYTES + 2**20), compresslevel=9)
    answer = tf_server.client.post("/api/predict", content=bomb)
    assert (answer.status_code, answer.json()["reason"]) == (422, "too large")
    assert tf_server.client.get("/api/isalive").text == "true"
