"""One source for each contract: feature names written once, and the layers' import rules."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

from sciencebeam_gym import class_labels, facts, records

PACKAGE = Path(__file__).resolve().parents[1] / "sciencebeam_gym"


def parsed_modules(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text("utf-8"), filename=str(path))


def string_constants(tree: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def is_module(name: str) -> bool:
    folder = PACKAGE.parent.joinpath(*name.split("."))
    return folder.with_suffix(".py").is_file() or (folder / "__init__.py").is_file()


def imported_modules(tree: ast.AST) -> set[str]:
    """The modules an import names: `from a.b import c` is a.b.c when c is a module, else a.b."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if is_module(submodule) else node.module)
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
# the word labeller reads the floor and the vision model (serving); the stages that write its
# token files or use its model stand beside or above it
SIBLINGS_OF_WORDS = (
    "sciencebeam_gym.generate",
    "sciencebeam_gym.extract",
    "sciencebeam_gym.field_evaluation",
    "sciencebeam_gym.trainer",
    "sciencebeam_gym.preprocess",
    "sciencebeam_gym.sample_data",
)
STAGES = tuple(
    f"sciencebeam_gym.{stage}"
    for stage in (
        "generate",
        "extract",
        "preprocess",
        "trainer",
        "serving",
        "field_evaluation",
        "sample_data",
        "words",
        "cloud",
    )
)
# The Cloud Storage client and uploads are for storage itself and the cloud commands; the
# stages go through storage.fs (files) and storage.tensorflow_paths (opened by a command line).
STORAGE_CLIENT = ("sciencebeam_gym.storage.gcs_client", "sciencebeam_gym.storage.uploads")


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("trainer", ("sciencebeam_gym.cloud", "sciencebeam_gym.preprocess")),
        ("preprocess", ("sciencebeam_gym.trainer", "sciencebeam_gym.cloud.upload")),
        ("serving", SERVING),
        ("document", SERVING),
        ("page_image.py", SERVING),
        ("words", (*SIBLINGS_OF_WORDS, "sciencebeam_gym.cloud")),
        ("generate", ("sciencebeam_gym.words", "sciencebeam_gym.extract")),
        ("sample_data", ("sciencebeam_gym.words", "sciencebeam_gym.generate")),
        ("storage", STAGES),
        (
            "service",
            (
                *SERVING,
                "sciencebeam_gym.trainer",
                "sciencebeam_gym.generate",
                "sciencebeam_gym.field_evaluation",
                "sciencebeam_gym.sample_data",
            ),
        ),
    ],
)
def test_layers_import_only_downwards(layer, forbidden):
    modules = modules_of(layer)
    offending = sorted(
        f"{path.relative_to(PACKAGE)}: {name}"
        for path, tree in modules
        for name in imported_modules(tree)
        if name.startswith(forbidden)
    )
    assert offending == []


def test_nothing_imports_the_service():
    """The service stands on the stages; no stage (nor the floor) stands on it."""
    offending = sorted(
        f"{path.relative_to(PACKAGE)}: {name}"
        for path, tree in parsed_modules(PACKAGE)
        if "service" not in path.relative_to(PACKAGE).parts
        for name in imported_modules(tree)
        if name.startswith("sciencebeam_gym.service")
    )
    assert offending == []


def modules_of(layer: str):
    root = PACKAGE / layer
    return parsed_modules(root) if root.is_dir() else [(root, ast.parse(root.read_text()))]


def modules_importing(prefixes: tuple[str, ...]) -> list[str]:
    """The package's modules outside storage/ importing any of `prefixes`."""
    return sorted(
        str(path.relative_to(PACKAGE))
        for path, tree in parsed_modules(PACKAGE)
        if not path.is_relative_to(PACKAGE / "storage")
        and any(name.startswith(prefixes) for name in imported_modules(tree))
    )


def test_only_the_cloud_commands_hold_a_storage_client():
    users = modules_importing(STORAGE_CLIENT)
    assert [path for path in users if not path.startswith("cloud/")] == []


# Only a command line maps paths for TensorFlow: what it calls receives paths, not a client.
TENSORFLOW_PATHS_USERS = ["trainer/evaluate_checkpoint.py", "trainer/task.py"]


def test_only_command_lines_open_the_tensorflow_paths():
    users = modules_importing(("sciencebeam_gym.storage.tensorflow_paths",))
    assert users == TENSORFLOW_PATHS_USERS


def test_fs_imports_no_beam_at_module_level():
    tree = ast.parse((PACKAGE / "storage" / "fs.py").read_text("utf-8"))
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
        "from sciencebeam_gym.storage.tensorflow_paths import TensorflowPaths\n"
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


# --- the floor and the stages ---------------------------------------------------------------------
# Every top-level module or package of sciencebeam_gym is declared here: on the floor, or a stage.
# The floor holds the contracts and readers every stage shares; it imports no stage (and no
# cloud). Cloud is the edge some stages run through (Dataflow options, Vertex AI jobs, uploads);
# it imports only the floor. A stage imports the floor, and the stages and edges it stands on
# (STANDS_ON, followed through: field_evaluation stands on extract, so on serving too); no
# stage imports a sibling otherwise.
FLOOR = {
    "cli": "the command lines' parser, errors and exit statuses (imports nothing of the toolkit)",
    "ini": "INI files (the colour map, the XML mapping)",
    "storage": "local and gs:// files, paths, the client, uploads, TensorFlow paths, the lock",
    "records": "the TFRecord contract: feature names, encoding, the image size",
    "color_map": "color_map.conf <-> class ids, colours, labels",
    "class_labels": "the class labels the code names",
    "data_layout": "the data folder: splits and page names",
    "page_image": "page images read, checked and resized as the records hold them",
    "beam_steps": "Beam steps every pipeline shares",
    "model_contract": "what the generator takes and gives, and its size in a config",
    "document": "a PDF and its JATS: pages, text layer, words, fields, sources",
    "shell_config": "the .config checker prepare-shell.sh runs (standard library only)",
    "facts": "each shared fact with its one definition (python -m sciencebeam_gym.facts)",
    "weighted_sources": "GLOB[:WEIGHT] training sources (train.sh and train-word-model.sh)",
}
EDGE = {"cloud"}
STANDS_ON = {
    "sample_data": set(),
    "generate": {"cloud"},
    "preprocess": {"cloud"},
    "trainer": set(),  # knows no cloud: a Vertex AI job runs it, it does not know the job
    "serving": set(),  # and trainer.model_dir alone, see NARROW_ARROWS
    "words": {"serving"},  # the vision model's painted classes are one of its features
    "extract": {"serving", "words", "cloud"},
    "field_evaluation": {"extract", "cloud"},
    "service": {"extract"},
    "cloud": set(),
}
# Arrows to a sibling allowed for named modules only: serving reads the model directory and the
# contracts (model_contract), not the training loop.
NARROW_ARROWS = {("serving", "trainer"): {"sciencebeam_gym.trainer.model_dir"}}


def unit_of(module: str) -> str | None:
    """`sciencebeam_gym.extract.cli` -> `extract`; None outside the package."""
    parts = module.split(".")
    return parts[1] if parts[0] == "sciencebeam_gym" and len(parts) > 1 else None


def package_units() -> set[str]:
    return {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }


def stands_on(unit: str) -> set[str]:
    """The stages and edges a unit may import, followed through."""
    found, todo = set(), [unit]
    while todo:
        for other in STANDS_ON.get(todo.pop(), set()) - found:
            found.add(other)
            todo.append(other)
    return found


def allowed_units(unit: str) -> set[str]:
    if unit in FLOOR:
        return set(FLOOR)
    return set(FLOOR) | stands_on(unit) | {unit}


@functools.cache
def imports_by_unit() -> dict[str, set[tuple[str, str]]]:
    """unit -> (importing file, imported module) of every import, at module level or lazy."""
    found: dict[str, set[tuple[str, str]]] = {}
    for path, tree in parsed_modules(PACKAGE):
        rel = path.relative_to(PACKAGE)
        unit = rel.parts[0].removesuffix(".py")
        for name in imported_modules(tree):
            if unit_of(name) and unit_of(name) != unit:
                found.setdefault(unit, set()).add((str(rel), name))
    return found


def test_every_module_of_the_package_is_on_the_floor_or_a_stage():
    assert package_units() - set(FLOOR) - set(STANDS_ON) == set()
    assert not set(FLOOR) & (set(STANDS_ON) | EDGE)


@pytest.mark.parametrize("unit", sorted(package_units()))
def test_each_unit_imports_only_what_it_stands_on(unit):
    allowed = allowed_units(unit)
    narrow = {t: modules for (s, t), modules in NARROW_ARROWS.items() if s == unit}
    offending = sorted(
        f"{path}: {name}"
        for path, name in imports_by_unit().get(unit, ())
        if unit_of(name) not in allowed
        and not (unit_of(name) in narrow and name in narrow[unit_of(name)])
    )
    assert offending == []


def test_the_declared_arrows_are_used_and_point_one_way():
    # a stage standing on itself through others would be a cycle in the table
    assert all(unit not in stands_on(unit) for unit in STANDS_ON)
    arrows = {(s, unit_of(name)) for s, pairs in imports_by_unit().items() for _, name in pairs}
    for stage, others in STANDS_ON.items():
        if stage in package_units():
            # extract stands on serving, field_evaluation on extract: the table says what is
            for other in others & package_units():
                assert (stage, other) in arrows, f"{stage} no longer imports {other}"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


def module_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports (module level and lazy alike), with the
    packages those run first (their __init__), but not the importer's own packages: Python has
    those loaded before the importer runs."""
    modules = {module_name(path): tree for path, tree in parsed_modules(PACKAGE)}

    def with_packages(name: str) -> set[str]:
        parts = name.split(".")
        return {".".join(parts[:i]) for i in range(2, len(parts) + 1)} & modules.keys()

    return {
        module: set().union(*map(with_packages, imported_modules(tree)))
        - with_packages(module)
        - {module}
        for module, tree in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as a path (first node repeated at the end), or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for other in sorted(graph.get(node, ())):
            if state.get(other) == 1:
                return path[path.index(other) :] + [other]
            if other not in state and (cycle := visit(other, [*path, other])):
                return cycle
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node, [node])):
            return cycle
    return []


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules():
    assert find_cycle(module_graph()) == []


def test_no_import_cycle_between_the_floor_and_the_stages():
    units = {}
    for unit, pairs in imports_by_unit().items():
        units[unit] = {unit_of(name) for _, name in pairs}
    assert find_cycle(units) == []


# --- one constant per fact ------------------------------------------------------------------------
# shell_config.py runs as `python3 -I -S shell_config.py` from prepare-shell.sh, before the toolkit
# is installed: it cannot import cli, so its exit statuses are written out.
STANDALONE = {"sciencebeam_gym/shell_config.py"}


@pytest.mark.parametrize("fact", facts.FACTS, ids=lambda fact: fact.constant)
def test_each_fact_is_defined_once(fact):
    copies = [str(place) for place in facts.copies(fact) if place.path not in STANDALONE]
    assert copies == [], f"{fact.constant} is written again at {copies}; import it"


# Plain-word labels are also JATS (and TEI) element or attribute names and field names, written
# as such by the modules that read or write JATS or TEI and name the evaluated or shown fields.
JATS_AND_FIELD_MODULES = {
    "extract/article.py",
    "extract/fields.py",  # headings such as "Abstract" and "Keywords"
    "extract/tei.py",
    "service/view.py",  # the fields the service's page shows
    "field_evaluation/fields.py",
    "sample_data/jats.py",
    "words/lexicon.py",  # heading words ("abstract", "keywords") of the word features
    "words/features.py",  # the feature "doi": a DOI in the word
}


@functools.cache
def strings_by_module() -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE)): set(string_constants(tree))
        for path, tree in parsed_modules(PACKAGE)
    }


@pytest.mark.parametrize("label", class_labels.ALL)
def test_each_class_label_is_written_once(label):
    places = [
        path
        for path, strings in strings_by_module().items()
        if label in strings and not ("_" not in label and path in JATS_AND_FIELD_MODULES)
    ]
    assert places == ["class_labels.py"], f"{label!r} is written in {places}; use class_labels"
