"""A labeller that knows the answer: the classes that generate-data.sh paints from each real
article's own JATS, looked up by the rendered page. With it the service's tests check the
whole path (HTTP, worker processes, extraction, TEI, GROBID's client, the browser) on real PDFs
and expect their real titles, whatever an untrained model would paint. Pages it has not seen
are painted background. No TensorFlow: its workers start in a second.

    paint_answers([(pdf_path, xml_path), ...], pages=(1, 2), path=tmp / "answers.npz",
                  known=painted_answers(pdf_bytes, class_maps))
    ./serve.sh --model tmp/answers.npz --loader tests.service.oracle:load_oracle
"""

from __future__ import annotations

import hashlib

import numpy as np

from sciencebeam_gym.color_map import default_color_map_path, load_color_map

UNSEEN_SIZE = (64, 64)


def page_key(image) -> str:
    """The key of a rendered page: its size and pixels."""
    digest = hashlib.sha1(image.tobytes())
    digest.update(repr(image.size).encode())
    return digest.hexdigest()


def paint_answers(articles, pages: tuple[int, ...], path, known: dict | None = None) -> int:
    """Paint the chosen pages of each (PDF, JATS) pair as generate-data.sh does, saved by page
    key to an .npz file with the `known` answers; the number of pages saved."""
    from sciencebeam_gym.document.xml_mapping import default_xml_mapping_path, load_xml_mapping
    from sciencebeam_gym.generate.document import Settings, generate_pages

    settings = Settings(
        output_path="",
        color_map=load_color_map(default_color_map_path()),
        mapping=load_xml_mapping(default_xml_mapping_path()),
        pages=pages,
    )
    answers = dict(known or {})
    for pdf, xml in articles:
        for page in generate_pages(pdf.read_bytes(), xml.read_bytes(), settings, pdf.name):
            answers[page_key(page.image)] = page.label
    np.savez_compressed(path, **answers)
    return len(answers)


def painted_answers(pdf: bytes, class_maps, dpi: float | None = None) -> dict[str, np.ndarray]:
    """Answers for a PDF whose class maps are known (painted as in tests/extract/pages.py)."""
    from sciencebeam_gym.document.pdf import DEFAULT_DPI, open_pdf, render_page

    document = open_pdf(pdf)
    try:
        return {
            page_key(render_page(document[number], dpi or DEFAULT_DPI)): class_map
            for number, class_map in enumerate(class_maps)
        }
    finally:
        document.close()


class OracleLabeller:
    def __init__(self, answers: dict[str, np.ndarray], dpi: float, source: str):
        self.answers = answers
        self.dpi = dpi
        self.source = source
        color_map = load_color_map(default_color_map_path())
        self.labels_by_value = {c.key: c.label for c in color_map.classes}

    def label_pages(self, images):
        blank = np.zeros(UNSEEN_SIZE, np.uint8)
        return [self.answers.get(page_key(image), blank) for image in images]


def load_oracle(path: str, dpi: float | None = None) -> OracleLabeller:
    from sciencebeam_gym.document.pdf import DEFAULT_DPI

    with np.load(path) as answers:
        return OracleLabeller(
            {key: answers[key] for key in answers.files}, dpi or DEFAULT_DPI, path
        )
