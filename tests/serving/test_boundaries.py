"""Serving reads the model directory and the data contracts, never the training loop,
preprocessing or the cloud code; and its functions stay short."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "sciencebeam_gym"
SERVING_FILES = sorted((PACKAGE / "serving").glob("*.py"))
SHARED_FILES = [PACKAGE / "pdf_render.py", PACKAGE / "page_image.py"]
FORBIDDEN = ("sciencebeam_gym.preprocess", "sciencebeam_gym.trainer.task", "sciencebeam_gym.cloud")


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_serving_imports_neither_preprocess_nor_the_training_loop_nor_cloud():
    assert SERVING_FILES
    found = {
        f"{path.name}: {module}"
        for path in [*SERVING_FILES, *SHARED_FILES]
        for module in imported_modules(path)
        if module.startswith(FORBIDDEN)
    }
    assert not found


def test_no_serving_function_is_longer_than_80_lines():
    long = [
        f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in [*SERVING_FILES, *SHARED_FILES]
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > 80
        and node.name != "get_args_parser"  # a declarative argparse builder
    ]
    assert not long
