"""What every command line of the toolkit shares: the parser, shared flags, errors, logging.

    parser = cli.ArgumentParser(prog="python -m sciencebeam_gym.x", description="...")
    cli.add_color_map(parser)
    args = parser.parse_args(argv)              # or cli.parse_beam_args(parser, argv)

- Every flag is declared once, in snake_case, and also accepted in kebab-case (`--dry-run` is
  `--dry_run`); abbreviations are not accepted (they turn typos into other flags).
- A positional may come after the options (`IN --pages 1 OUT`), as argparse alone does not allow
  for an optional one.
- An unknown flag is refused (exit 2) with the closest known flag named. The Beam pipelines take
  Beam's own options too (`--runner`, `--direct_num_workers`, Dataflow's): those pass through.
- `CliError` is a problem the user can fix; it carries its exit code (see EXIT_*).
- `configure_logging` gives every CLI one log format: plain messages, `warning: ...` above INFO.

No TensorFlow and no Beam at import time: `--help` must answer at once.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import math
import signal
import sys
import threading
from collections.abc import Iterable, Sequence

EXIT_OK = 0
EXIT_FAILED = 1  # the run went wrong (nothing written, a job failed, a non-finite loss)
EXIT_USAGE = 2  # bad flags, settings or input: fix them and run again
# 3 is the shell's: the toolkit is not installed (prepare-shell.sh, install.sh).
EXIT_NO_INPUT = 4  # no file matched the input (preprocess: a split without pages is skipped)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
# A batch of documents: every one done (EXIT_OK), some failed, none done (or a bad flag).
EXIT_SOME_FAILED = EXIT_FAILED
EXIT_NONE_DONE = EXIT_USAGE

COLOR_MAP_HELP = "colour map file (default: the toolkit's color_map.conf)"
KEBAB_NOTE = "Every flag also takes its kebab-case spelling (--dry-run = --dry_run)."


class CliError(Exception):
    """A problem the user can fix: printed as `error: <message>`, no traceback."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str = "", exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


def report_error(error: BaseException, exit_code: int | None = None) -> int:
    """Print `error: ...` on stderr; the exit code: given, the error's own, else EXIT_USAGE."""
    print(f"error: {error}", file=sys.stderr)
    if exit_code is not None:
        return exit_code
    return getattr(error, "exit_code", EXIT_USAGE)


def report_interrupted(state: str) -> int:
    """Print `interrupted: <state>` (what Ctrl-C left behind, what to do) on stderr; exit 130."""
    print(f"interrupted: {state}", file=sys.stderr)
    return EXIT_INTERRUPTED


class Interrupts:
    """Ctrl-C raised as KeyboardInterrupt and also remembered: Python ignores an exception raised
    inside a finalizer (a PDF object closed by the garbage collector while the signal arrives),
    so a batch calls `check()` between documents to honour an interrupt that was lost there.
    Outside the main thread it changes nothing."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *_exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, _signum, _frame) -> None:
        self.requested = True
        raise KeyboardInterrupt

    def check(self) -> None:
        """Raise KeyboardInterrupt when Ctrl-C came, even if its first raise was swallowed."""
        if self.requested:
            raise KeyboardInterrupt


def batch_exit_code(done: int, failed: int) -> int:
    """A batch's exit status: 0 every document done, 1 some failed, 2 none done."""
    if not done:
        return EXIT_NONE_DONE
    return EXIT_SOME_FAILED if failed else EXIT_OK


# --- flag names ---------------------------------------------------------------------------------


def _flag_name(token: str) -> str:
    """'--image-width=3' -> '--image_width': the spelling flags are compared in."""
    name = token.split("=", 1)[0]
    return "--" + name[2:].replace("-", "_") if name.startswith("--") else name


def _is_flag(token: str) -> bool:
    return token.startswith("--") and len(token) > 2 or (token[:1] == "-" and token[1:2].isalpha())


def closest_flag(token: str, known: Iterable[str]) -> str | None:
    """The known flag nearest to a misspelt one (difflib), or None when none is close."""
    by_name = {_flag_name(flag): flag for flag in known if flag.startswith("--")}
    matches = difflib.get_close_matches(_flag_name(token), list(by_name), n=1, cutoff=0.6)
    return by_name[matches[0]] if matches else None


def unknown_flags_message(unknown: Sequence[str], known: Iterable[str]) -> str:
    known = list(known)
    parts = []
    for token in unknown:
        suggestion = closest_flag(token, known)
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        parts.append(f"{token.split('=', 1)[0]}{hint}")
    noun = "argument" if len(parts) == 1 else "arguments"
    return f"unrecognized {noun}: {', '.join(parts)}; see --help"


class ArgumentParser(argparse.ArgumentParser):
    """argparse with kebab-case aliases, no abbreviations and suggestions for unknown flags."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def known_flags(self) -> list[str]:
        """Every long flag of this parser (and of its sub-commands)."""
        flags = [flag for flag in self._option_string_actions if flag.startswith("--")]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    flags += [f for f in sub._option_string_actions if f.startswith("--")]
        return flags

    def _canonical(self, token: str) -> str:
        """A flag in another spelling (kebab/snake) -> the declared one; others unchanged."""
        if not token.startswith("--") or token == "--":
            return token
        name, eq, value = token.partition("=")
        if name in self._option_string_actions:
            return token
        by_name = {_flag_name(flag): flag for flag in self._option_string_actions}
        declared = by_name.get(_flag_name(name))
        return declared + eq + value if declared else token

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        if "--" in args:
            cut = args.index("--")
            args = [self._canonical(a) for a in args[:cut]] + args[cut:]
        else:
            args = [self._canonical(a) for a in args]
        return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        parsed, unknown = self.parse_known_args(args, namespace)
        # an unknown flag's value is taken for its value, never for a positional
        unknown = _fill_positionals(self, parsed, unknown, lambda _flag: True)
        if unknown:
            # the value after an unknown flag is left over too; naming the flag is enough
            flags = [token for token in unknown if _is_flag(token)] or unknown
            self.error(unknown_flags_message(flags, self.known_flags()))
        return parsed

    def format_help(self) -> str:
        return super().format_help().rstrip("\n") + "\n\n" + KEBAB_NOTE + "\n"


# --- Beam's own options -------------------------------------------------------------------------


def _beam_actions() -> dict[str, bool]:
    """Every flag Beam's PipelineOptions classes declare -> whether it takes a value, collected
    as Beam itself parses them."""
    from apache_beam.options.pipeline_options import PipelineOptions

    flags: dict[str, bool] = {}

    def collect(parser: argparse.ArgumentParser) -> None:
        for flag, action in parser._option_string_actions.items():
            flags[flag] = action.nargs != 0

    # get_all_options builds Beam's parser from every registered options class, then calls this
    PipelineOptions([]).get_all_options(add_extra_args_fn=collect)
    return flags


def beam_option_flags() -> frozenset[str]:
    """Every flag Beam's PipelineOptions classes declare."""
    return frozenset(_beam_actions())


def _fill_positionals(parser: ArgumentParser, opts, rest: list[str], takes_value) -> list[str]:
    """Bare words argparse leaves over when they follow an option (`IN --pages 1 OUT`) go to the
    optional positionals still empty, in order; the rest of `rest` is returned."""
    empty = [
        action.dest
        for action in parser._actions
        if not action.option_strings and action.nargs == "?" and getattr(opts, action.dest) is None
    ]
    left, value_next = [], False
    for index, token in enumerate(rest):
        if token == "--":
            return left + rest[index:]
        bare = not _is_flag(token) and not value_next
        value_next = _is_flag(token) and "=" not in token and takes_value(token)
        if bare and empty:
            setattr(opts, empty.pop(0), token)
        else:
            left.append(token)
    return left


def parse_beam_args(parser: ArgumentParser, argv: Sequence[str] | None):
    """(our options, Beam's arguments): a flag neither side knows is refused with a suggestion.

    Beam's flags pass through as given; one in kebab-case is handed to Beam in snake_case
    (Beam would discard it). A positional given after an option still counts as one.
    """
    opts, rest = parser.parse_known_args(argv)
    beam_actions = _beam_actions()
    rest = _fill_positionals(
        parser, opts, rest, lambda flag: beam_actions.get(_flag_name(flag), True)
    )
    beam_flags = frozenset(beam_actions)
    beam_args, unknown = [], []
    for i, token in enumerate(rest):
        if token == "--":
            beam_args += rest[i:]
            break
        name, eq, value = token.partition("=")
        if _is_flag(token) and name not in beam_flags:
            if _flag_name(name) in beam_flags:
                token = _flag_name(name) + eq + value
            else:
                unknown.append(token)
        beam_args.append(token)
    if unknown:
        known = sorted(set(parser.known_flags()) | beam_flags)
        parser.error(unknown_flags_message(unknown, known))
    return opts, beam_args


# --- shared flags -------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """argparse type: a whole number from 1 (worker counts, limits, shard counts)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0 (resolutions, time limits); 'nan', 'inf', 0 and
    negative numbers are refused with the value named."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text!r}")
    return value


def add_color_map(parser, help: str = COLOR_MAP_HELP) -> None:  # noqa: A002 - argparse's name
    """--color_map PATH; None when not given (the caller picks the default it documents)."""
    parser.add_argument("--color_map", default=None, metavar="PATH", help=help)


def add_job_dir(parser, alias_of: str) -> None:
    """--job_dir: the output folder flag that Vertex AI passes (an alias of `alias_of`)."""
    parser.add_argument("--job_dir", default=None, help=f"alias of {alias_of}")


def add_dry_run(parser, help: str) -> None:  # noqa: A002
    parser.add_argument("--dry_run", action="store_true", help=help)


def add_cloud(parser, job_name_help: str = "Dataflow job name") -> None:
    """--cloud (Dataflow with the configuration's options) and --job_name."""
    parser.add_argument(
        "--cloud",
        action="store_true",
        help="run on Dataflow with the options of the configuration (PROJECT, BUCKET, REGION, ...)",
    )
    parser.add_argument("--job_name", default=None, help=job_name_help)


# --- logging ------------------------------------------------------------------------------------


class _Formatter(logging.Formatter):
    """Progress lines as they are; warnings and errors as `warning: ...` like our errors."""

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def configure_logging(level: int = logging.INFO, quiet: Sequence[str] = ()) -> None:
    """One format for every CLI (on stderr); `quiet` loggers only show errors.

    Like logging.basicConfig, it leaves a root logger that already has handlers alone.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_Formatter("%(message)s"))
        root.addHandler(handler)
        root.setLevel(level)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.ERROR)
