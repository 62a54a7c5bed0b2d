from sciencebeam_gym.document.sources import SourcePair
from sciencebeam_gym.field_evaluation.documents import extracted_file


def test_the_extracted_xml_is_found_by_the_pdf_name_then_the_document_id(tmp_path):
    pair = SourcePair(
        "paper_v2", f"{tmp_path}/src/paper.v2.pdf.gz", f"{tmp_path}/src/paper.v2.nxml"
    )
    assert extracted_file(str(tmp_path), pair) is None
    (tmp_path / "paper_v2.xml").write_text("<article/>")
    assert extracted_file(str(tmp_path), pair) == f"{tmp_path}/paper_v2.xml"
    (tmp_path / "paper.v2.xml").write_text("<article/>")  # extract.sh names it after the PDF
    assert extracted_file(str(tmp_path), pair) == f"{tmp_path}/paper.v2.xml"


def test_a_publisher_xml_that_cannot_be_read_skips_the_document(tmp_path):
    from sciencebeam_gym.field_evaluation.documents import EvaluationTask, Settings, evaluate_task
    from sciencebeam_gym.field_evaluation.fields import load_evaluation_mapping

    (tmp_path / "paper.xml").mkdir()  # a folder where the XML should be
    (tmp_path / "extracted.xml").write_text("<article/>")
    task = EvaluationTask(
        "paper", str(tmp_path / "paper.xml"), None, str(tmp_path / "extracted.xml")
    )
    result = evaluate_task(task, Settings(load_evaluation_mapping(), str(tmp_path / "out")))
    assert (result.status, result.reason) == ("skipped", "publisher XML: cannot be read")
    assert str(tmp_path / "paper.xml") in result.detail
