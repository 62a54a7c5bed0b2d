"""Pages vary in size, columns, fonts and content; the corpus covers every required class."""

import pytest

from sciencebeam_gym.sample_data.cli import REQUIRED_LABELS
from sciencebeam_gym.sample_data.corpus import make_document


@pytest.fixture(scope="module")
def documents():
    return [make_document("train", index, seed=1) for index in range(60)]


def test_page_sizes_columns_and_fonts_vary(documents):
    first = documents[:20]
    assert len({d.style.page_size for d in first}) > 1
    assert len({d.style.columns for d in first}) > 1
    assert len({d.style.body_family for d in first}) > 1
    assert len({round(d.style.body_size, 1) for d in first}) > 5
    assert len({d.dpi for d in first}) > 1


def test_pages_show_different_sets_of_classes(documents):
    class_sets = {frozenset(r.label for r in d.page.regions) for d in documents[:20]}
    assert len(class_sets) > 3


def test_every_required_class_appears_in_the_corpus(documents):
    seen = {r.label for d in documents for r in d.page.regions}
    missing = set(REQUIRED_LABELS) - seen
    assert not missing
    assert "acknowledgement" in seen


def test_every_page_has_the_title_page_essentials(documents):
    for document in documents:
        labels = {r.label for r in document.page.regions}
        assert {"manuscript_title", "author", "abstract"} <= labels


def test_regions_stay_on_the_page(documents):
    for document in documents:
        page = document.page
        for region in page.regions:
            assert 0 <= region.x0 < region.x1 <= page.width
            assert 0 <= region.y0 < region.y1 <= page.height
