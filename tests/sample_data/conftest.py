"""A small sample corpus made once for the tests of this package."""

import pytest

from sciencebeam_gym.color_map import default_color_map_path, load_color_map
from sciencebeam_gym.sample_data.cli import generate_corpus

TRAIN_PAGES = 10
TEST_PAGES = 4


@pytest.fixture(scope="session")
def color_map():
    return load_color_map(default_color_map_path())


@pytest.fixture(scope="session")
def corpus_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("sample-corpus"))
    generate_corpus(
        path,
        default_color_map_path(),
        TRAIN_PAGES,
        TEST_PAGES,
        seed=7,
        workers=2,
        log=lambda message: None,
    )
    return path
