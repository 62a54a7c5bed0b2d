import gzip

import pytest

from sciencebeam_gym.document.sources import (
    SourceError,
    find_pairs,
    find_pairs_in_folder,
    read_file_list,
)


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folder_pairs_by_name_with_gz_nxml_subfolders_and_missing_partners(tmp_path):
    touch(tmp_path / "a.pdf")
    touch(tmp_path / "a.xml")
    touch(tmp_path / "b.pdf.gz", gzip.compress(b"x"))
    touch(tmp_path / "b.nxml.gz", gzip.compress(b"x"))
    touch(tmp_path / "c.pdf")  # no XML
    touch(tmp_path / "d.xml")  # no PDF
    touch(tmp_path / "PMC1" / "fulltext.pdf")  # generic names: the folder is the id
    touch(tmp_path / "PMC1" / "fulltext.xml")
    touch(tmp_path / "notes.txt")
    pairs = {p.doc_id: p for p in find_pairs_in_folder(str(tmp_path))}
    assert set(pairs) == {"a", "b", "c", "d", "PMC1"}
    assert pairs["b"].pdf.endswith("b.pdf.gz") and pairs["b"].xml.endswith("b.nxml.gz")
    assert pairs["c"].xml is None and pairs["d"].pdf is None
    assert pairs["PMC1"].pdf.endswith("fulltext.pdf")


def test_file_lists_with_and_without_header_resolve_relative_paths(tmp_path):
    tsv = touch(tmp_path / "list.tsv", b"id\tpdf_url\txml_url\nx1\tdocs/x.pdf\tdocs/x.xml\n")
    (pair,) = read_file_list(str(tsv))
    assert pair.doc_id == "x1" and pair.pdf == str(tmp_path / "docs" / "x.pdf")
    csv_file = touch(tmp_path / "list.csv", b"/abs/y.pdf,/abs/y.xml\n/abs/z.pdf,\n")
    first, second = read_file_list(str(csv_file))
    assert (first.doc_id, first.pdf, first.xml) == ("y", "/abs/y.pdf", "/abs/y.xml")
    assert second.xml is None
    assert [p.doc_id for p in find_pairs(str(tsv))] == ["x1"]


def test_bad_sources_raise_source_error_naming_the_flag(tmp_path):
    with pytest.raises(SourceError, match="--source"):
        find_pairs(str(tmp_path / "nowhere"))
    with pytest.raises(SourceError, match="no PDF or XML"):
        find_pairs(str(tmp_path))
    bad = touch(tmp_path / "bad.tsv", b"pdf\tcolour\nx.pdf\tred\n")
    with pytest.raises(SourceError, match="only one of"):
        read_file_list(str(bad))


def test_a_file_list_group_column_names_each_documents_group(tmp_path):
    tsv = touch(
        tmp_path / "list.tsv",
        b"id\tpdf\txml\tgroup\na\ta.pdf\ta.xml\tPLOS ONE\nb\tb.pdf\tb.xml\t\n",
    )
    first, second = read_file_list(str(tsv))
    assert (first.doc_id, first.group) == ("a", "PLOS_ONE")  # made safe as a folder name
    assert second.group is None  # an empty cell: the run's --group
