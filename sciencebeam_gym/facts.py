"""The facts several stages rely on, each with its one definition.

    python -m sciencebeam_gym.facts          # name, value and file:line of each fact
    python -m sciencebeam_gym.facts --check  # and every copy found elsewhere (exit 1 if any)

A fact is a value more than one stage (or a shell script) relies on: the render dpi, the image
size, the data splits... Each is assigned once, in the module named here, and imported
everywhere else. A copy is the same value assigned to the fact's name in another module, or a
literal of the same value bound to a name that carries the fact (a `dpi` parameter's default,
an `--image_width` flag's default, a dataclass field, a keyword argument; for an exit code, a
`main` returning it). tests/test_contracts.py holds that there are none; tests/test_facts.py
that the shell's copies (prepare-shell.sh keeps three, see there) agree.

The values are read from the source (only `cli`, standard library alone, is imported), so the
command answers at once.
"""

from __future__ import annotations

import ast
import functools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sciencebeam_gym import cli

PACKAGE = Path(__file__).resolve().parent
# A name carried by functions named so: the value they return is the process's exit status.
EXIT_STATUS = "<exit status of main>"


@dataclass(frozen=True)
class Fact:
    """One fact: where it is defined, and the names a copy of it would go by."""

    name: str
    module: str  # dotted, e.g. sciencebeam_gym.document.pdf
    constant: str
    # parameter, field, flag and variable names (any case; also as the end of a longer name:
    # `dpi` carries DEFAULT_DPI and pdf_dpi)
    carriers: tuple[str, ...] = ()
    shell: tuple[str, ...] = ()  # prepare-shell.sh variables whose default is the same value
    # the same string or tuple written anywhere else (a docstring aside) is a copy, whatever it
    # is bound to (`for split in ("train", "test")` copies the splits)
    anywhere: bool = False


def _exit_code(constant: str, meaning: str) -> Fact:
    return Fact(
        f"exit status: {meaning}", "sciencebeam_gym.cli", constant, ("exit_code", EXIT_STATUS)
    )


FACTS = (
    Fact(
        "render dpi of PDF pages (training data, extraction, prediction)",
        "sciencebeam_gym.document.pdf",
        "DEFAULT_DPI",
        ("dpi",),
        ("GENERATE_DPI",),
    ),
    Fact(
        "image size of the records and the model input (one side)",
        "sciencebeam_gym.records",
        "DEFAULT_IMAGE_SIZE",
        ("image_size", "image_width", "image_height"),
        ("IMAGE_WIDTH", "IMAGE_HEIGHT"),
    ),
    Fact(
        "share of documents generate-data puts in test/",
        "sciencebeam_gym.generate.splits",
        "DEFAULT_TEST_FRACTION",
        ("test_fraction",),
        ("GENERATE_TEST_FRACTION",),
    ),
    Fact("the data splits", "sciencebeam_gym.data_layout", "SPLITS", ("splits",), anywhere=True),
    Fact(
        "export metadata file name",
        "sciencebeam_gym.serving.metadata",
        "METADATA_FILENAME",
        anywhere=True,
    ),
    Fact("class labels named in code", "sciencebeam_gym.class_labels", "ALL", anywhere=True),
    _exit_code("EXIT_OK", "done"),
    _exit_code("EXIT_FAILED", "the run went wrong"),
    _exit_code("EXIT_USAGE", "bad flags, settings or input"),
    _exit_code("EXIT_NO_INPUT", "no file matched the input"),
    _exit_code("EXIT_INTERRUPTED", "interrupted (Ctrl-C)"),
)


@dataclass(frozen=True)
class Place:
    """Where a value is written: a file of the package (relative to its parent) and a line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def module_path(module: str, package: Path = PACKAGE) -> Path:
    """The file of a dotted module name of the package."""
    parts = module.split(".")[1:]
    folder = package.joinpath(*parts)
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


def assignments(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level `NAME = value` (and annotated ones) of a module, the last one winning."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            found[node.target.id] = node.value
    return found


def literal(node: ast.expr, names: dict[str, ast.expr] | None = None):
    """The value of a literal, of a name assigned a literal in the same module, or of a tuple of
    them; ValueError for anything else."""
    names = names or {}
    if isinstance(node, ast.Name) and node.id in names:
        return literal(names[node.id], names)
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(literal(element, names) for element in node.elts)
    return ast.literal_eval(node)


def definition(fact: Fact, package: Path = PACKAGE) -> tuple[object, Place]:
    """(value, place) of a fact's one definition, read from the source."""
    path = module_path(fact.module, package)
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    names = assignments(tree)
    if fact.constant not in names:
        raise LookupError(f"{fact.constant} is not assigned in {path}")
    node = names[fact.constant]
    return literal(node, names), Place(_shown(path, package), node.lineno)


def _shown(path: Path, package: Path) -> str:
    return str(path.relative_to(package.parent))


def same_value(a, b) -> bool:
    """Equal values of one kind: 100 and 100.0 are one dpi, True and 1 are not one exit code."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


@functools.cache
def parsed_modules(package: Path = PACKAGE) -> tuple[tuple[Path, ast.Module], ...]:
    """Every module of the package, parsed (once per run)."""
    return tuple(
        (path, ast.parse(path.read_text("utf-8"), filename=str(path)))
        for path in sorted(package.rglob("*.py"))
    )


def bindings(tree: ast.Module) -> Iterator[tuple[str, ast.expr]]:
    """(name, value node) of every place a value is bound to a name: assignments (also to
    attributes and dataclass fields), parameter defaults, keyword arguments, argparse flag
    defaults (`add_argument("--dpi", default=...)`), and what `main` functions return."""
    for node in ast.walk(tree):
        yield from _bindings_of(node)


def _bindings_of(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if name := _target_name(target):
                yield name, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        if name := _target_name(node.target):
            yield name, node.value
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        yield from _parameter_defaults(node.args)
        if node.name == "main":
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    yield EXIT_STATUS, inner.value
    elif isinstance(node, ast.Call):
        for keyword in node.keywords:
            if keyword.arg:
                yield keyword.arg, keyword.value
        yield from _flag_default(node)


def _target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def _parameter_defaults(args: ast.arguments) -> Iterator[tuple[str, ast.expr]]:
    positional = args.posonlyargs + args.args
    with_defaults = positional[len(positional) - len(args.defaults) :]
    for arg, default in zip(with_defaults, args.defaults, strict=True):
        yield arg.arg, default
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if default is not None:
            yield arg.arg, default


def _flag_default(call: ast.Call) -> Iterator[tuple[str, ast.expr]]:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and str(first.value).startswith("--"):
        for keyword in call.keywords:
            if keyword.arg == "default":
                yield first.value[2:].replace("-", "_"), keyword.value


def copies(fact: Fact, package: Path = PACKAGE) -> list[Place]:
    """Every place outside the definition where the fact's value is written again: assigned to
    its constant's name, or bound as a literal to a name that carries it."""
    value, defined = definition(fact, package)
    found = []
    for path, tree in parsed_modules(package):
        candidates = [node for name, node in bindings(tree) if carries(fact, name)]
        if fact.anywhere:
            candidates += literal_nodes(tree)
        for node in candidates:
            if _is_definition(path, node, defined, package):
                continue
            try:
                copy = literal(node)
            except ValueError:
                continue  # a name, a call, an expression: not a copy
            if same_value(copy, value):
                found.append(Place(_shown(path, package), node.lineno))
    return sorted(set(found), key=lambda p: (p.path, p.line))


def carries(fact: Fact, name: str) -> bool:
    """Whether a name is one a copy of the fact would go by."""
    name = name.lower()
    return any(
        name == carrier or name.endswith("_" + carrier)
        for carrier in (c.lower() for c in (fact.constant, *fact.carriers))
    )


def literal_nodes(tree: ast.Module) -> list[ast.expr]:
    """The strings (docstrings left out), tuples and lists written in a module."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    strings = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]
    return strings + [node for node in ast.walk(tree) if isinstance(node, ast.Tuple | ast.List)]


def _is_definition(path: Path, node: ast.expr, defined: Place, package: Path) -> bool:
    return _shown(path, package) == defined.path and node.lineno == defined.line


def describe(package: Path = PACKAGE) -> list[dict]:
    """Each fact: name, constant, value, where it is defined, the shell's copies."""
    rows = []
    for fact in FACTS:
        value, place = definition(fact, package)
        rows.append(
            {
                "fact": fact.name,
                "constant": f"{fact.module}.{fact.constant}",
                "value": value,
                "defined_at": str(place),
                "shell": list(fact.shell),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.facts", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print the facts as JSON")
    parser.add_argument(
        "--check", action="store_true", help="also list every copy of a fact (exit 1 if any)"
    )
    args = parser.parse_args(argv)
    rows = describe()
    if args.json:
        print(json.dumps(rows, indent=2))
    for row in [] if args.json else rows:
        shell = f"  (shell: {', '.join(row['shell'])} in prepare-shell.sh)" if row["shell"] else ""
        print(f"{row['fact']}\n  {row['constant']} = {row['value']!r}  {row['defined_at']}{shell}")
    if not args.check:
        return cli.EXIT_OK
    found = {fact.constant: copies(fact) for fact in FACTS}
    for constant, places in found.items():
        for place in places:
            print(f"copy of {constant}: {place}", file=sys.stderr)
    return cli.EXIT_FAILED if any(found.values()) else cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
