"""cli.py: kebab-case aliases, unknown flags refused with a suggestion, Beam's flags pass."""

import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sciencebeam_gym import cli


def _parser():
    parser = cli.ArgumentParser(prog="tool")
    parser.add_argument("--image_width", type=int, default=256)
    parser.add_argument("--dry_run", action="store_true")
    parser.add_argument("--no-wait", action="store_true")
    cli.add_color_map(parser)
    return parser


def _refusal(capsys, call) -> str:
    with pytest.raises(SystemExit) as exit_info:
        call()
    assert exit_info.value.code == cli.EXIT_USAGE
    return capsys.readouterr().err


def test_kebab_and_snake_spellings_are_one_flag():
    parser = _parser()
    kebab = parser.parse_args(["--image-width", "128", "--dry-run", "--color-map=x.conf"])
    snake = parser.parse_args(["--image_width=128", "--dry_run", "--color_map", "x.conf"])
    assert (
        vars(kebab)
        == vars(snake)
        == {
            "image_width": 128,
            "dry_run": True,
            "no_wait": False,
            "color_map": "x.conf",
        }
    )
    # a flag declared in kebab-case takes the snake_case spelling too
    assert parser.parse_args(["--no_wait"]).no_wait is True


def test_values_and_arguments_after_double_dash_are_left_alone():
    parser = cli.ArgumentParser(prog="tool")
    parser.add_argument("--name")
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--image_width")
    args = parser.parse_args(["--name=--image-width", "--", "--image-width"])
    assert args.name == "--image-width" and args.rest == ["--image-width"]


def test_unknown_flag_is_refused_with_the_closest_name(capsys):
    err = _refusal(capsys, lambda: _parser().parse_args(["--imag_width", "128"]))
    assert "--imag_width (did you mean --image_width?)" in err
    assert "128" not in err.split("error:")[1]


def test_unknown_flag_without_a_close_name_is_refused_plainly(capsys):
    err = _refusal(capsys, lambda: _parser().parse_args(["--zzzzqqq"]))
    assert "unrecognized argument: --zzzzqqq" in err and "did you mean" not in err


def test_abbreviations_are_not_accepted(capsys):
    err = _refusal(capsys, lambda: _parser().parse_args(["--image", "128"]))
    assert "did you mean --image_width?" in err


def test_subcommand_flags_get_aliases_and_suggestions(capsys):
    parser = cli.ArgumentParser(prog="tool")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upload")
    up.add_argument("--max_workers", type=int)
    assert parser.parse_args(["upload", "--max-workers", "3"]).max_workers == 3
    err = _refusal(capsys, lambda: parser.parse_args(["upload", "--max_worker", "3"]))
    assert "did you mean --max_workers?" in err


def test_beam_options_pass_through_intact():
    args = [
        "--runner",
        "DirectRunner",
        "--direct_num_workers=2",
        "--project",
        "p",
        "--experiments",
        "a",
        "--experiments",
        "b",
    ]
    opts, beam_args = cli.parse_beam_args(_parser(), ["--image-width", "64", *args])
    assert opts.image_width == 64
    assert beam_args == args


def test_beam_option_in_kebab_case_reaches_beam_in_snake_case():
    _, beam_args = cli.parse_beam_args(_parser(), ["--direct-num-workers", "3"])
    assert beam_args == ["--direct_num_workers", "3"]


def test_flag_unknown_to_both_sides_is_refused(capsys):
    err = _refusal(capsys, lambda: cli.parse_beam_args(_parser(), ["--imag_width", "128"]))
    assert "did you mean --image_width?" in err
    err = _refusal(capsys, lambda: cli.parse_beam_args(_parser(), ["--direct_num_worker=2"]))
    assert "did you mean --direct_num_workers?" in err


def test_beam_flags_are_collected_from_every_options_class():
    from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

    flags = cli.beam_option_flags()
    assert {"--runner", "--direct_num_workers", "--project", "--temp_location"} <= flags
    for cls in PipelineOptions.__subclasses__():
        probe = _BeamArgumentParser()
        cls._add_argparse_args(probe)
        assert {f for f in probe._option_string_actions if f.startswith("--")} <= flags, cls


def test_cli_error_carries_its_exit_code(capsys):
    class ToolError(cli.CliError):
        exit_code = cli.EXIT_FAILED

    assert cli.report_error(ToolError("disk on fire")) == cli.EXIT_FAILED
    assert cli.report_error(ToolError("again", exit_code=7)) == 7
    assert cli.report_error(cli.CliError("bad flag")) == cli.EXIT_USAGE
    assert cli.report_error(ValueError("foreign"), cli.EXIT_FAILED) == cli.EXIT_FAILED
    assert capsys.readouterr().err.splitlines() == [
        "error: disk on fire",
        "error: again",
        "error: bad flag",
        "error: foreign",
    ]


def test_help_mentions_the_kebab_spelling():
    assert cli.KEBAB_NOTE in _parser().format_help()


def test_one_log_format():
    code = (
        "import logging; from sciencebeam_gym import cli; cli.configure_logging(); "
        "log = logging.getLogger('x'); log.info('[stage] progress'); log.warning('careful')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.splitlines() == ["[stage] progress", "warning: careful"]


def test_cli_module_imports_neither_tensorflow_nor_beam():
    code = (
        "import sys; import sciencebeam_gym.cli; "
        "print([m for m in ('tensorflow', 'apache_beam') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_configure_logging_leaves_existing_handlers(caplog):
    with caplog.at_level(logging.INFO):
        cli.configure_logging()
        logging.getLogger("y").info("kept")
    assert "kept" in caplog.text


def test_every_cli_of_the_package_builds_its_parser_with_cli():
    package = Path(cli.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "cli.py":
            continue
        text = path.read_text()
        if re.search(r"\bargparse\.ArgumentParser\(", text) or re.search(
            r"add_argument\(\s*\"--color_map\"", text
        ):
            offenders.append(str(path.relative_to(package)))
    assert offenders == [], "use cli.ArgumentParser and cli.add_color_map"


class _SignalledOnCollection:
    """An object whose finalizer receives Ctrl-C (as a PDF object closed by the collector may)."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_lost_in_a_finalizer_is_honoured_between_documents():
    previous = signal.getsignal(signal.SIGINT)
    with cli.Interrupts() as interrupts:
        interrupts.check()  # nothing yet
        item = _SignalledOnCollection()
        del item  # the KeyboardInterrupt raised in __del__ is ignored by Python
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    assert signal.getsignal(signal.SIGINT) is previous
