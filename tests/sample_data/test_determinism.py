"""Same seed, same bytes (whatever the number of workers); another seed, other pages."""

import os

from sciencebeam_gym.color_map import default_color_map_path
from sciencebeam_gym.sample_data.cli import generate_corpus


def read_tree(root):
    result = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                result[os.path.relpath(path, root)] = f.read()
    return result


def make(path, seed, workers):
    generate_corpus(
        str(path),
        default_color_map_path(),
        3,
        1,
        seed=seed,
        workers=workers,
        log=lambda message: None,
    )
    return read_tree(path)


def test_same_seed_gives_identical_files_with_one_or_two_workers(tmp_path):
    first = make(tmp_path / "a", seed=5, workers=1)
    second = make(tmp_path / "b", seed=5, workers=2)
    assert len(first) == 8
    assert first == second


def test_another_seed_gives_other_pages(tmp_path):
    first = make(tmp_path / "a", seed=5, workers=1)
    second = make(tmp_path / "b", seed=6, workers=1)
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


def test_train_and_test_pages_come_from_different_seeds(corpus_path):
    def page(split, index):
        doc_id = f"sample-{split}-{index:05d}"
        with open(
            os.path.join(corpus_path, split, "sample-000", doc_id, f"{doc_id}-page1.png"), "rb"
        ) as f:
            return f.read()

    assert page("train", 0) != page("test", 0)
    assert page("train", 1) != page("test", 1)
