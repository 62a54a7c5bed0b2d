"""Fixtures of the extraction tests: a tiny exported model (as tests/serving makes one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serving.conftest import make_model_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_ARTICLES = REPO_ROOT.parent / "shared" / "data" / "pdf-jats"


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory) -> Path:
    """An export of an untrained 32-pixel generator: real TensorFlow, meaningless classes."""
    import keras

    from sciencebeam_gym.serving import export

    keras.mixed_precision.set_dtype_policy("float32")  # whatever an earlier test left
    trained = make_model_dir(tmp_path_factory.mktemp("extract-training"))
    path = tmp_path_factory.mktemp("extract-exports") / "export"
    assert export.main(["--model_path", str(trained), "--export_path", str(path)]) == 0
    return path


def real_article(stem: str) -> tuple[Path, Path]:
    """A real PDF and its JATS from the shared data; the test is skipped when they are absent."""
    pdf, xml = REAL_ARTICLES / f"{stem}.pdf", REAL_ARTICLES / f"{stem}.xml"
    if not (pdf.exists() and xml.exists()):
        pytest.skip(f"{REAL_ARTICLES} does not hold {stem}")
    return pdf, xml
