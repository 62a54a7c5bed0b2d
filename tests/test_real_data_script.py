"""real-data.sh: the recipe's data stages on tiny PDFs made in code (its training stage is
train.sh with TRAIN_DATA_PATHS, tested with the trainer)."""

from pathlib import Path

import pytest

from tests.generate.factory import article_lines, pdf_bytes, publisher_xml
from tests.scripts import run_script as run_toolkit_script

ROOT = Path(__file__).resolve().parents[1]


def write_source(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, publisher in docs.items():
        (folder / f"{name}.pdf").write_bytes(pdf_bytes(article_lines(), pages=2))
        (folder / f"{name}.xml").write_bytes(publisher_xml(publisher))
    return folder


def run_script(tmp_path: Path, *args: str, **env_extra: str):
    return run_toolkit_script("real-data.sh", tmp_path, *args, **env_extra)


@pytest.mark.slow
def test_each_real_source_gets_its_own_data_version_with_token_files(tmp_path):
    first = write_source(tmp_path / "first", {"h": "Hindawi Publishing Corporation"})
    second = write_source(tmp_path / "second", {"m": "MDPI", "n": "MDPI"})
    result = run_script(
        tmp_path, "--stages", "real", REAL_SOURCES=f"{first} {second}", GENERATE_DPI="30"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    models = tmp_path / "models" / "pix2pix"
    assert sorted(p.name for p in models.iterdir()) == ["v4-real-first", "v4-real-second"]
    tokens = sorted(p.name for p in models.glob("v4-real-*/data/*/*/*/*.tokens.json"))
    # whole articles to train (h alone; one of m, n), the first page of the other to test
    assert len(tokens) == 5 and {"h-page1.tokens.json", "h-page2.tokens.json"} <= set(tokens)
    assert {p.name for p in models.glob("v4-real-second/data/t*/*")} == {"mdpi"}


def test_an_unknown_stage_is_refused_before_anything_runs(tmp_path):
    result = run_script(tmp_path, "--stages", "real,trian")
    assert result.returncode == 2
    assert "unknown stage 'trian'" in result.stderr
    assert not (tmp_path / "models").exists()


@pytest.mark.slow
def test_the_data_stages_write_whole_articles_to_train_and_first_pages_to_test(tmp_path):
    real = write_source(
        tmp_path / "real", {f"h{i}": "Hindawi Publishing Corporation" for i in range(3)}
    )
    unseen = write_source(tmp_path / "unseen", {"p": "Public Library of Science", "m": "MDPI"})
    result = run_script(
        tmp_path,
        "--stages",
        "real,unseen",
        REAL_SOURCE=str(real),
        REAL_UNSEEN_SOURCE=str(unseen),
        GENERATE_DPI="30",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    models = tmp_path / "models" / "pix2pix"
    real_data = models / "v4-real-real" / "data"  # the source folder is named "real"
    train_pages = sorted(p.name for p in real_data.glob("train/hindawi/*/*-page*.annot.png"))
    test_pages = sorted(p.name for p in real_data.glob("test/hindawi/*/*-page*.annot.png"))
    assert len(train_pages) == 4 and len(test_pages) == 1  # 2 documents x 2 pages; 1 first page
    assert test_pages[0].endswith("-page1.annot.png")
    unseen_groups = sorted(p.name for p in (models / "v4-unseen" / "data" / "test").iterdir())
    assert unseen_groups == ["mdpi", "public-library-of-science"]
    # token files beside the pages, for the word model
    assert len(list(real_data.glob("train/hindawi/*/*-page*.tokens.json"))) == 4
    for version, split in (
        ("v4-real-real", "train"),
        ("v4-real-real", "test"),
        ("v4-unseen", "test"),
    ):
        assert list((models / version / "preproc" / split).glob("*.tfrecord.gz")), (version, split)
