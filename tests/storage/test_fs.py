"""storage.fs on local paths: globs, atomic replace, tree copies, no Beam needed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sciencebeam_gym.storage import fs


def make_tree(root) -> None:
    for relative in ("a/x.png", "a/b/y.png", "a/b/z-page1.png", "a/b/z-page12.annot.png", ".h"):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(relative.encode())


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("a/*.png", ["a/x.png"]),
        ("a/**", ["a/b/y.png", "a/b/z-page1.png", "a/b/z-page12.annot.png", "a/x.png"]),
        ("*/*/*-page[0-9]*.png", ["a/b/z-page1.png", "a/b/z-page12.annot.png"]),
        ("a/b/z-page?.png", ["a/b/z-page1.png"]),
        ("a/b/[!y]*", ["a/b/z-page1.png", "a/b/z-page12.annot.png"]),
        ("a/x.png", ["a/x.png"]),
        ("a", []),  # a folder is not a file
        ("nothing/*", []),
    ],
)
def test_glob_matches_files_like_beam(tmp_path, pattern, expected):
    make_tree(tmp_path)
    found = fs.glob(str(tmp_path / pattern))
    assert found == [str(tmp_path / p) for p in expected]


def test_list_tree_and_copy_tree_put_the_marker_last(tmp_path):
    make_tree(tmp_path / "src")
    copied = fs.copy_tree(str(tmp_path / "src"), str(tmp_path / "dst"), last=["a/x.png"])
    assert copied[-1] == "a/x.png" and len(copied) == 5
    assert fs.list_tree(str(tmp_path / "dst")) == fs.list_tree(str(tmp_path / "src"))
    assert (tmp_path / "dst/a/b/y.png").read_bytes() == b"a/b/y.png"


def test_write_bytes_never_leaves_the_target_missing(tmp_path, monkeypatch):
    # A kill between writing the new file and putting it in place (the rename step made to
    # fail here) used to leave no config.json at all: the old one was deleted first.
    target = tmp_path / "config.json"
    fs.write_text(str(target), "old")

    def killed(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    monkeypatch.setattr(os, "rename", killed)
    with pytest.raises(KeyboardInterrupt):
        fs.write_text(str(target), "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temporary file left
    fs.write_text(str(target), "new")
    assert target.read_text() == "new"


def test_delete_files_and_folders(tmp_path):
    make_tree(tmp_path)
    fs.delete([str(tmp_path / "a/b"), str(tmp_path / "a/x.png"), str(tmp_path / "missing")])
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == []
    assert fs.read_bytes(str(tmp_path / ".h")) == b".h"
    with pytest.raises(FileNotFoundError):
        fs.read_bytes(str(tmp_path / "a/x.png"))


def test_escaped_glob_characters_match_only_themselves(tmp_path, recwarn):
    for name in ("x[1]", "x1", "x*", "xy"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "f.png").write_bytes(b"f")
    for name in ("x[1]", "x*"):
        pattern = os.path.join(fs.escape_glob(str(tmp_path / name)), "*.png")
        assert fs.glob(pattern) == [str(tmp_path / name / "f.png")]
    assert not [
        w for w in recwarn if issubclass(w.category, FutureWarning)
    ]  # no nested-set warning
    fs.delete([str(tmp_path / "x[1]")])  # a folder whose name is a glob is deleted, and only it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x*", "x1", "xy"]


def test_printable_path_and_utf8_names():
    name = os.fsdecode(b"caf\xe9.png")
    assert not fs.is_utf8_name(name) and fs.is_utf8_name("caf\u00e9.png")
    assert fs.printable_path(name) == "caf\\xe9.png"


def test_disk_full_is_found_through_the_errors_it_caused():
    import errno

    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as cause:
            raise RuntimeError("worker failed") from cause
    except RuntimeError as error:
        assert fs.is_disk_full(error)
    assert not fs.is_disk_full(OSError(errno.EACCES, "Permission denied"))


def test_fs_works_without_apache_beam(tmp_path):
    # the training image has no Beam: blocking the import must change nothing for local files
    script = (
        "import sys; sys.modules['apache_beam'] = None\n"
        "from sciencebeam_gym.storage import fs\n"
        f"root = {str(tmp_path)!r}\n"
        "fs.write_text(fs.join(root, 'a', 'b.txt'), 'x')\n"
        "assert fs.glob(fs.join(root, '**')) == [fs.join(root, 'a', 'b.txt')]\n"
        "assert fs.read_bytes(fs.join(root, 'a', 'b.txt')) == b'x'\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
