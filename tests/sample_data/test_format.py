"""The corpus is in the original data format: names, pairing, image modes, sizes, label values."""

import glob
import os
import re

import numpy as np
from PIL import Image

from tests.sample_data.conftest import TEST_PAGES, TRAIN_PAGES

ORIGINAL_GLOB = "*/*/*-page1*.png"
ANNOTATION_RE = re.compile(r"\btarget\b|\bannot")


def split_files(corpus_path, split):
    return sorted(glob.glob(os.path.join(corpus_path, split, ORIGINAL_GLOB)))


def pairs(corpus_path, split):
    files = split_files(corpus_path, split)
    annotations = [f for f in files if ANNOTATION_RE.search(f)]
    pages = [f for f in files if not ANNOTATION_RE.search(f)]
    return pages, annotations


def test_original_glob_finds_a_page_and_an_annotation_per_document(corpus_path):
    for split, count in (("train", TRAIN_PAGES), ("test", TEST_PAGES)):
        pages, annotations = pairs(corpus_path, split)
        assert len(pages) == count
        assert len(annotations) == count


def test_annotations_pair_with_pages_by_name(corpus_path):
    pages, annotations = pairs(corpus_path, "train")
    assert sorted(a.replace(".annot.png", ".png") for a in annotations) == pages


def test_document_ids_have_no_spaces_and_match_their_folder(corpus_path):
    pages, _ = pairs(corpus_path, "train")
    for page in pages:
        doc_id = os.path.basename(page)[: -len("-page1.png")]
        assert " " not in doc_id
        assert os.path.basename(os.path.dirname(page)) == doc_id


def test_pages_are_rgb_white_paper_with_dark_text_at_a_realistic_size(corpus_path):
    pages, _ = pairs(corpus_path, "train")
    for path in pages:
        image = Image.open(path)
        assert image.mode == "RGB"
        assert 1100 <= image.height <= 1700
        assert 0.6 < image.width / image.height < 0.85
        pixels = np.asarray(image)
        assert np.median(pixels) == 255
        assert (pixels < 80).mean() > 0.01


def test_annotations_are_label_images_with_colour_map_keys_only(corpus_path, color_map):
    pages, annotations = pairs(corpus_path, "train")
    allowed = {0, *color_map.keys}
    for page, annotation in zip(pages, annotations, strict=True):
        label = Image.open(annotation)
        assert label.mode == "L"
        assert label.size == Image.open(page).size
        values = set(np.unique(np.asarray(label)).tolist())
        assert values <= allowed
        assert len(values) > 5


def test_labelled_pixels_lie_on_text(corpus_path, color_map):
    """Most pixels painted as a title hold dark ink in the page, most background is white."""
    pages, annotations = pairs(corpus_path, "train")
    title_key = color_map.class_by_label("manuscript_title").key
    for page, annotation in zip(pages[:3], annotations[:3], strict=True):
        grey = np.asarray(Image.open(page).convert("L"))
        label = np.asarray(Image.open(annotation))
        ink_in_title = (grey[label == title_key] < 128).mean()
        ink_in_background = (grey[label == 0] < 128).mean()
        assert ink_in_title > 3 * ink_in_background
