"""One source for each contract: feature names written once, and the layers' import rules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from sciencebeam_gym import records

PACKAGE = Path(__file__).resolve().parents[1] / "sciencebeam_gym"


def parsed_modules(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text("utf-8"), filename=str(path))


def string_constants(tree: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("key", [*records.FEATURE_KEYS, records.COMPLETION_REPORT_NAME])
def test_each_record_name_is_written_once_in_the_package(key):
    places = [
        str(path.relative_to(PACKAGE))
        for path, tree in parsed_modules(PACKAGE)
        for value in string_constants(tree)
        if value == key
    ]
    assert places == ["records.py"], f"{key!r} is written in {places}; import it from records.py"


SERVING = ("sciencebeam_gym.preprocess", "sciencebeam_gym.trainer.task", "sciencebeam_gym.cloud")


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("trainer", ("sciencebeam_gym.cloud", "sciencebeam_gym.preprocess")),
        ("preprocess", ("sciencebeam_gym.trainer", "sciencebeam_gym.cloud.storage")),
        ("serving", SERVING),
        ("document", SERVING),
        ("page_image.py", SERVING),
        ("staging.py", ("sciencebeam_gym.cloud",)),
        ("gcs.py", ("sciencebeam_gym.cloud",)),
    ],
)
def test_layers_import_only_downwards(layer, forbidden):
    root = PACKAGE / layer
    modules = parsed_modules(root) if root.is_dir() else [(root, ast.parse(root.read_text()))]
    offending = sorted(
        f"{path.relative_to(PACKAGE)}: {name}"
        for path, tree in modules
        for name in imported_modules(tree)
        if name.startswith(forbidden)
    )
    assert offending == []


def test_fs_imports_no_beam_at_module_level():
    tree = ast.parse((PACKAGE / "fs.py").read_text("utf-8"))
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            top_level |= imported_modules(node)
    assert not [name for name in top_level if name.startswith("apache_beam")]


def test_the_trainer_runs_its_file_work_without_apache_beam(tmp_path):
    # the training image installs no Beam: the trainer's modules and their file access must
    # work with the import blocked
    (tmp_path / "part-00000-of-00001.tfrecord.gz").write_bytes(b"")
    script = (
        "import sys; sys.modules['apache_beam'] = None\n"
        "from sciencebeam_gym.trainer import data, evaluate_checkpoint, task\n"
        "from sciencebeam_gym.staging import GcsStaging\n"
        f"print(len(data.find_files([{str(tmp_path / '*.tfrecord.gz')!r}])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "1"


MAX_FUNCTION_LINES = 80


def test_no_function_in_the_package_is_over_80_lines():
    """Declarative argument parsers (functions named *parser*) are the one exception."""
    long = [
        f"{path.relative_to(PACKAGE)}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path, tree in parsed_modules(PACKAGE)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        and "parser" not in node.name
    ]
    assert long == []
