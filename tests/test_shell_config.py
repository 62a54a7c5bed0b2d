""".config typos are named (prepare-shell.sh + shell_config.py); .config.example documents all."""

import re
from pathlib import Path

from sciencebeam_gym import shell_config
from tests.test_prepare_shell import _source

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / ".config.example").read_text()
PREPARE_SHELL = (ROOT / "prepare-shell.sh").read_text()


def _exported_by_prepare_shell() -> set[str]:
    return set(re.findall(r"^\s*export ([A-Z][A-Z0-9_]*)", PREPARE_SHELL, re.M))


def test_every_exported_variable_is_documented_in_config_example():
    exported = _exported_by_prepare_shell()
    assert {"TRAINING_ARGS", "IMAGE_WIDTH", "DATA_PATH", "JOB_ID"} <= exported
    words = set(re.findall(r"\b[A-Z][A-Z0-9_]+\b", EXAMPLE))
    assert sorted(exported - words) == []


def test_derived_names_are_really_set_after_the_config():
    derived = shell_config.derived_names(EXAMPLE)
    assert {"DATA_PATH", "TRAIN_MODEL_PATH", "COLOR_MAP_PATH"} <= derived
    assert "BUCKET" not in derived and "MODEL_NAME" not in derived  # settings named in the text
    for name in derived:
        # derived: assigned without a ${NAME:-default} that would keep a value from .config
        assignments = re.findall(rf"^\s*(?:export )?{name}=(.*)$", PREPARE_SHELL, re.M)
        assert assignments, name
        assert all(f"${{{name}:-" not in value for value in assignments), name


def test_the_example_uncommented_gives_no_warning():
    uncommented = re.sub(r"^# (export [A-Z])", r"\1", EXAMPLE, flags=re.M)
    assert uncommented.count("\nexport ") > 30
    assert shell_config.config_warnings(uncommented, PREPARE_SHELL, EXAMPLE) == []


def test_typos_are_named_with_the_closest_setting():
    config = (
        'export TRAINNG_ARGS="--ngf 16"\nIMAGE_WIDHT=512\nexport DATA_PATH=/x\n'
        "export SOMETHING_ELSE=1\nmy_own_dir=/tmp\nexport TRAINING_PRESET=quick\n"
    )
    warnings = shell_config.config_warnings(config, PREPARE_SHELL, EXAMPLE)
    assert (
        warnings[0]
        == "TRAINNG_ARGS is not one of the toolkit's settings; did you mean TRAINING_ARGS?"
    )
    assert warnings[1].endswith("did you mean IMAGE_WIDTH?")
    assert warnings[2].startswith("DATA_PATH is derived by prepare-shell.sh")
    assert warnings[3].startswith("SOMETHING_ELSE is not one") and "did you mean" not in warnings[3]
    assert len(warnings) == 4


def test_prepare_shell_warns_about_a_typo_in_config(tmp_path):
    config = 'export TRAINNG_ARGS="--ngf 16"\nexport IMAGE_WIDHT=512\nexport VERSION_NAME=v9\n'
    code, values, stderr = _source(config_text=config, tmp_path=tmp_path)
    assert code == 0
    assert values["VERSION_NAME"] == "v9"  # the rest of the file still applies
    assert "gym.config: TRAINNG_ARGS is not one of the toolkit's settings" in stderr
    assert "did you mean TRAINING_ARGS?" in stderr and "did you mean IMAGE_WIDTH?" in stderr


def test_prepare_shell_is_silent_for_a_good_config(tmp_path):
    config = "export VERSION_NAME=v9\nexport TRAINING_PRESET=quick\nlocal_dir=/tmp\n"
    code, _, stderr = _source(config_text=config, tmp_path=tmp_path)
    assert code == 0
    assert "warning" not in stderr
