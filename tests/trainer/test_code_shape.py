"""The trainer stays readable: no function over 80 lines (declarative argument parsers aside)."""

import ast
import pathlib

import sciencebeam_gym.trainer

MAX_LINES = 80


def long_functions(folder: pathlib.Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_LINES and "parser" not in node.name:
                found.append(f"{path.name}:{node.name} ({lines} lines)")
    return found


def test_no_trainer_function_is_over_80_lines():
    folder = pathlib.Path(sciencebeam_gym.trainer.__file__).parent
    assert long_functions(folder) == []
