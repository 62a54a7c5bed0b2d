import numpy as np
import pytest

from sciencebeam_gym.color_map import default_color_map_path, load_color_map
from sciencebeam_gym.document.xml_mapping import default_xml_mapping_path, load_xml_mapping
from sciencebeam_gym.generate.document import Settings
from sciencebeam_gym.generate.evaluate import (
    TARGET_LABELS,
    evaluate_folder,
    f1_scores,
    main,
    pixel_counts,
)


def test_pixel_counts_and_f1_per_class():
    truth = np.array([[1, 1, 0, 2], [1, 1, 0, 2]], dtype=np.uint8)
    predicted = np.array([[1, 0, 0, 2], [1, 1, 3, 3]], dtype=np.uint8)
    counts = pixel_counts(truth, predicted, [1, 2, 3, 4])
    assert counts.tolist() == [[3, 0, 1], [1, 0, 1], [0, 2, 0], [0, 0, 0]]
    scores = f1_scores(counts)
    assert scores[0] == pytest.approx(6 / 7) and scores[1] == pytest.approx(2 / 3)
    assert scores[2] == 0.0 and scores[3] is None


def test_evaluate_without_ground_truth_documents_exits_1(tmp_path, capsys):
    assert main(["--source", str(tmp_path)]) == 1
    assert "--format pdf" in capsys.readouterr().err


@pytest.mark.slow
def test_alignment_meets_pixel_f1_targets_on_synthetic_pdf_pages(tmp_path):
    sample_cli = pytest.importorskip("sciencebeam_gym.sample_data.cli")
    code = sample_cli.main(
        [
            "--output_path",
            str(tmp_path),
            "--train_pages",
            "4",
            "--test_pages",
            "0",
            "--format",
            "pdf",
            "--dpi",
            "60",
            "--workers",
            "1",
            "--seed",
            "7",
        ]
    )
    assert code == 0
    settings = Settings(
        output_path="",
        color_map=load_color_map(default_color_map_path()),
        mapping=load_xml_mapping(default_xml_mapping_path()),
    )
    result = evaluate_folder(str(tmp_path), settings)
    assert result["documents"] == 4
    for label in TARGET_LABELS:
        assert result["f1"][label] is not None and result["f1"][label] >= 0.9, (label, result["f1"])
