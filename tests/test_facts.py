"""The facts command, its copy finder, and the shell's copies of three facts agreeing."""

import importlib
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sciencebeam_gym import facts
from sciencebeam_gym.data_layout import SPLITS

ROOT = Path(__file__).resolve().parents[1]
SHELL_FACTS = [fact for fact in facts.FACTS if fact.shell]


def test_the_command_prints_each_fact_with_the_value_python_sees_and_where_it_is():
    result = subprocess.run(
        [sys.executable, "-m", "sciencebeam_gym.facts", "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    rows = json.loads(result.stdout)
    assert [row["constant"] for row in rows] == [f"{f.module}.{f.constant}" for f in facts.FACTS]
    for row, fact in zip(rows, facts.FACTS, strict=True):
        imported = getattr(importlib.import_module(fact.module), fact.constant)
        assert row["value"] == (list(imported) if isinstance(imported, tuple) else imported)
        path, line = row["defined_at"].rsplit(":", 1)
        source_line = (ROOT / path).read_text().splitlines()[int(line) - 1]
        assert source_line.startswith(f"{fact.constant} ="), (row, source_line)


def test_the_check_names_the_copies_and_fails(tmp_path):
    package = tmp_path / "sciencebeam_gym"
    (package / "document").mkdir(parents=True)
    (package / "document" / "pdf.py").write_text("DEFAULT_DPI = 100.0\n")
    (package / "cli.py").write_text("EXIT_USAGE = 2\n")
    (package / "copies.py").write_text(
        textwrap.dedent(
            """\
            import argparse
            from dataclasses import dataclass

            DEFAULT_DPI = 100                                   # 4: the constant again
            def render(page, dpi=100):                          # 5: a parameter's default
                return page
            @dataclass
            class Settings:
                pdf_dpi: float = 100.0                          # 9: a field (a longer name)
            def parser():
                p = argparse.ArgumentParser()
                p.add_argument("--dpi", type=float, default=1e2)  # 12: a flag's default
                return p
            def main():
                render(None, dpi=100)                           # 15: a keyword argument
                raise SystemExit(exit_code := 2)
            def also_main():
                return 2
            """
        )
    )
    (package / "fine.py").write_text(
        textwrap.dedent(
            """\
            from sciencebeam_gym.document.pdf import DEFAULT_DPI
            from sciencebeam_gym.cli import EXIT_USAGE
            def render(page, dpi=DEFAULT_DPI, scale=100):       # imported, or another name
                return page
            MAX_DPI = 600                                       # another value
            def main():
                return EXIT_USAGE
            """
        )
    )
    (package / "exits.py").write_text("def main():\n    if 1:\n        return 2\n    return 0\n")
    dpi = facts.Fact("dpi", "sciencebeam_gym.document.pdf", "DEFAULT_DPI", ("dpi",))
    usage = facts.Fact("usage", "sciencebeam_gym.cli", "EXIT_USAGE", (facts.EXIT_STATUS,))
    places = [str(p) for p in facts.copies(dpi, package)]
    assert places == [f"sciencebeam_gym/copies.py:{n}" for n in (4, 5, 9, 12, 15)]
    assert [str(p) for p in facts.copies(usage, package)] == ["sciencebeam_gym/exits.py:3"]


def shell_default(script: str, variable: str) -> str:
    match = re.search(rf'^\s*export {variable}="\$\{{{variable}:-([^}}]*)\}}"', script, re.M)
    assert match, f"prepare-shell.sh sets no default for {variable}"
    return match.group(1)


@pytest.mark.parametrize("fact", SHELL_FACTS, ids=lambda f: f.constant)
def test_the_shell_copies_agree_with_python(fact):
    value, _ = facts.definition(fact)
    prepare = (ROOT / "prepare-shell.sh").read_text()
    example = (ROOT / ".config.example").read_text()
    for variable in fact.shell:
        assert facts.same_value(float(shell_default(prepare, variable)), value), variable
        documented = re.search(rf"^# export {variable}=(\S+)$", example, re.M)
        assert documented and facts.same_value(float(documented.group(1)), value), variable


@pytest.mark.parametrize("fact", SHELL_FACTS, ids=lambda f: f.constant)
def test_no_other_script_sets_its_own_default(fact):
    for script in sorted(ROOT.glob("*.sh")):
        if script.name == "prepare-shell.sh":
            continue
        text = script.read_text()
        for variable in fact.shell:
            assert not re.search(rf"\$\{{{variable}:[-=]", text), f"{script.name}: {variable}"


def test_the_scripts_name_only_the_data_splits_in_their_paths():
    # e.g. "$PREPROC_PATH/train", "$DATA_PATH/test", "$real_records/train/*tfrecord*"
    # (a file beside the splits, such as $PREPROC_PATH/class-weights.json, is no folder)
    pattern = re.compile(
        r"\$\{?(?:PREPROC_PATH|DATA_PATH|\w+_records)\}?\"?\)?/(\w+)(?=[/\"')\s]|$)", re.M
    )
    named = {
        (script.name, folder)
        for script in ROOT.glob("*.sh")
        for folder in pattern.findall(script.read_text())
    }
    assert {folder for _, folder in named} == set(SPLITS), sorted(named)
