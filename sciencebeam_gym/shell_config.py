"""Warn about variables set in .config that no script reads (typos), naming the closest known one.

    python3 sciencebeam_gym/shell_config.py .config prepare-shell.sh .config.example

prepare-shell.sh runs this after sourcing .config. The known names are the ones prepare-shell.sh
exports and the ones .config.example documents; names it lists under "derived" are set by
prepare-shell.sh after .config is read, so setting them there has no effect either. Only
UPPER_CASE names are checked: lower-case variables are the user's own.
Standard library only: it runs under any python3, before the toolkit is installed.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

ASSIGNMENT_RE = re.compile(
    r"^\s*(?:export\s+|declare\s+(?:-\w+\s+)*|readonly\s+)?([A-Z][A-Z0-9_]*)\+?=", re.M
)
EXPORT_RE = re.compile(r"^\s*export\s+([A-Z][A-Z0-9_]*)", re.M)
DOCUMENTED_RE = re.compile(r"^#\s*export\s+([A-Z][A-Z0-9_]*)=", re.M)
DERIVED_HEADER = "# --- derived"
NAME_RE = re.compile(r"\b[A-Z][A-Z0-9_]{2,}\b")


def assigned_names(config_text: str) -> list[str]:
    """UPPER_CASE variables a bash file assigns, in order, each once."""
    return list(dict.fromkeys(ASSIGNMENT_RE.findall(config_text)))


def exported_names(prepare_shell_text: str) -> set[str]:
    return set(EXPORT_RE.findall(prepare_shell_text))


def settable_names(example_text: str) -> set[str]:
    """The settings .config.example documents (`# export NAME=...`)."""
    return set(DOCUMENTED_RE.findall(example_text))


def derived_names(example_text: str) -> set[str]:
    """Names listed after the "# --- derived" header of .config.example, settings aside."""
    _, found, derived = example_text.partition(DERIVED_HEADER)
    lines = [line for line in derived.splitlines()[1:] if line.startswith("#")]
    return set(NAME_RE.findall("\n".join(lines))) - settable_names(example_text) if found else set()


def config_warnings(config_text: str, prepare_shell_text: str, example_text: str) -> list[str]:
    derived = derived_names(example_text)
    known = exported_names(prepare_shell_text) | settable_names(example_text) | derived
    settable = sorted(known - derived)
    warnings = []
    for name in assigned_names(config_text):
        if name in derived:
            warnings.append(
                f"{name} is derived by prepare-shell.sh after .config is read: setting it has "
                "no effect (see the derived section of .config.example)"
            )
        elif name not in known:
            close = difflib.get_close_matches(name, settable, n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]}?" if close else " (.config.example lists them)"
            warnings.append(f"{name} is not one of the toolkit's settings{hint}")
    return warnings


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: shell_config.py CONFIG PREPARE_SHELL CONFIG_EXAMPLE", file=sys.stderr)
        return 2
    paths = [Path(p) for p in argv]
    texts = [p.read_text(errors="replace") if p.is_file() else "" for p in paths]
    for warning in config_warnings(*texts):
        print(f"warning: {paths[0]}: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
