"""prepare-shell.sh: defaults, .config overrides, --cloud paths, errors, any current directory."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRINT_VARS = [
    "DATA_PATH",
    "CONFIG_PATH",
    "PREPROC_PATH",
    "TRAIN_MODEL_PATH",
    "EXPORT_MODEL_PATH",
    "COLOR_MAP_PATH",
    "USE_CLOUD",
    "PROJECT",
    "BUCKET",
    "JOB_ID",
    "VERSION_NAME",
    "TRAINING_ARGS",
]


def _source(args=(), config_text=None, tmp_path=None, cwd=None, env_extra=None, root=ROOT):
    """Source prepare-shell.sh in a clean bash and return (exit code, variables, stderr)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "USER": "tester"}
    if config_text is not None:
        config = tmp_path / "gym.config"
        config.write_text(config_text)
        env["GYM_CONFIG_FILE"] = str(config)
    else:
        env["GYM_CONFIG_FILE"] = "/nonexistent/.config"
    env.update(env_extra or {})
    printer = "; ".join(f'echo "{name}=${{{name}}}"' for name in PRINT_VARS)
    script = f'source "{root}/prepare-shell.sh" "$@" || exit $?; {printer}; '
    script += 'printf "ARG=%s\\n" "${SCRIPT_ARGS[@]}"'
    result = subprocess.run(
        ["bash", "-c", script, "bash", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
    )
    values, script_args = {}, []
    for line in result.stdout.splitlines():
        key, _, value = line.partition("=")
        if key == "ARG":
            script_args.append(value)
        else:
            values[key] = value
    values["SCRIPT_ARGS"] = script_args
    return result.returncode, values, result.stderr


def test_defaults_follow_the_original_layout():
    code, values, stderr = _source()
    assert code == 0
    local_model = ROOT / ".models" / "pix2pix" / "v4"
    assert values["DATA_PATH"] == f"{local_model}/data"
    assert values["PREPROC_PATH"] == f"{local_model}/preproc"
    assert values["TRAIN_MODEL_PATH"] == f"{local_model}-default/training"
    assert values["CONFIG_PATH"] == str(ROOT)
    assert values["COLOR_MAP_PATH"] == f"{ROOT}/color_map.conf"
    assert values["USE_CLOUD"] == "false"
    assert values["JOB_ID"].startswith("sciencebeam_tester_pix2pix_")
    # sourcing prints the configuration for a person to read
    assert "DATA_PATH" in stderr and str(local_model) in stderr


def test_config_file_overrides_defaults(tmp_path):
    config = (
        "#!/bin/bash\nexport VERSION_NAME=v9\nexport TRAINING_SUFFIX=-gan-1-l1-100\n"
        'export TRAINING_ARGS="--gan_weight=1 --l1_weight=100"\n'
    )
    code, values, _ = _source(config_text=config, tmp_path=tmp_path)
    assert code == 0
    assert values["VERSION_NAME"] == "v9"
    assert values["TRAINING_ARGS"] == "--gan_weight=1 --l1_weight=100"
    assert values["TRAIN_MODEL_PATH"].endswith("/.models/pix2pix/v9-gan-1-l1-100/training")


def test_cloud_paths_are_in_the_bucket(tmp_path):
    code, values, _ = _source(
        args=["--cloud", "--max_steps", "5"],
        config_text="export PROJECT=my-proj\n",
        tmp_path=tmp_path,
    )
    assert code == 0
    base = "gs://my-proj-ml/sciencebeam/pix2pix/v4"
    assert values["USE_CLOUD"] == "true"
    assert values["DATA_PATH"] == f"{base}/data"
    assert values["CONFIG_PATH"] == f"{base}/config"
    assert values["PREPROC_PATH"] == f"{base}/preproc"
    assert values["TRAIN_MODEL_PATH"] == f"{base}-default/training"
    assert values["COLOR_MAP_PATH"] == f"{base}/config/color_map.conf"
    assert values["SCRIPT_ARGS"] == ["--max_steps", "5"]


def test_project_from_environment_and_bucket_override():
    code, values, _ = _source(
        args=["--cloud"], env_extra={"PROJECT": "env-proj", "BUCKET": "gs://other"}
    )
    assert code == 0
    assert values["DATA_PATH"] == "gs://other/sciencebeam/pix2pix/v4/data"


def test_cloud_without_project_is_a_clear_error():
    code, values, stderr = _source(args=["--cloud"])
    assert code == 2
    assert "PROJECT" in stderr and ".config" in stderr
    assert "DATA_PATH" not in values


def test_config_that_does_not_parse_names_the_file(tmp_path):
    code, _, stderr = _source(config_text='export A="unclosed\nif then\n', tmp_path=tmp_path)
    assert code == 2
    assert "gym.config" in stderr and "does not parse" in stderr


def test_works_from_another_directory(tmp_path):
    code, values, _ = _source(cwd=tmp_path)
    assert code == 0
    assert values["DATA_PATH"] == f"{ROOT}/.models/pix2pix/v4/data"


def test_without_venv_scripts_say_how_to_install(tmp_path):
    copy = tmp_path / "gym"
    copy.mkdir()
    shutil.copy(ROOT / "prepare-shell.sh", copy)
    shutil.copy(ROOT / "generate-sample-data.sh", copy)
    result = subprocess.run(
        ["bash", str(copy / "generate-sample-data.sh")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "GYM_QUIET": "true"},
    )
    assert result.returncode == 3
    assert "quickstart.sh" in result.stderr and "pip install" in result.stderr


@pytest.mark.parametrize("script", sorted(p.name for p in ROOT.glob("*.sh")))
def test_every_script_is_valid_bash(script):
    result = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gcloud_is_asked_for_the_project_only_with_cloud(tmp_path):
    # gcloud takes seconds to start; a local run must not wait for it.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "gcloud"
    fake.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\necho from-gcloud\n')
    fake.chmod(0o755)
    path = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    code, values, _ = _source(env_extra=path)
    assert code == 0 and values["PROJECT"] == "" and not calls.exists()
    code, values, _ = _source(["--cloud"], env_extra=path)
    assert code == 0 and values["PROJECT"] == "from-gcloud"
    assert "config list project" in calls.read_text()


def test_glob_escape_makes_a_configured_path_match_only_itself(tmp_path):
    # train.sh / eval.sh / preprocess.sh build their globs on paths such as LOCAL_PATH_ROOT
    from sciencebeam_gym.storage import fs

    for folder, name in [("models[1]", "a"), ("models1", "decoy")]:
        (tmp_path / folder / "train").mkdir(parents=True)
        (tmp_path / folder / "train" / f"{name}.tfrecord.gz").write_bytes(b"")
    path = tmp_path / "models[1]" / "train"
    script = f'source "{ROOT}/prepare-shell.sh" >/dev/null && gym_glob_escape "$1"'
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "GYM_CONFIG_FILE": "/nonexistent/.config"}
    result = subprocess.run(
        ["bash", "-c", script, "bash", str(path)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    matches = fs.glob(result.stdout + "/*tfrecord*")
    assert [os.path.basename(m) for m in matches] == ["a.tfrecord.gz"]


def _shell(script: str, *args: str, env_extra=None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "USER": "tester", "GYM_QUIET": "true"}
    env.update(GYM_CONFIG_FILE="/nonexistent/.config", **(env_extra or {}))
    return subprocess.run(
        [
            "bash",
            "-c",
            f'source "{ROOT}/prepare-shell.sh" "$@" || exit $?; {script}',
            "bash",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
    )


def test_version_path_derives_another_versions_paths_in_this_shell():
    script = 'gym_version_path v9-real PREPROC_PATH; echo; echo "$VERSION_NAME $PREPROC_PATH"'
    result = _shell(script)
    other, mine = result.stdout.splitlines()
    assert other == f"{ROOT}/.models/pix2pix/v9-real/preproc"
    assert mine == f"v4 {ROOT}/.models/pix2pix/v4/preproc"  # this shell's own are unchanged
    result = _shell(
        "gym_version_path v9-real TRAIN_MODEL_PATH", "--cloud", env_extra={"PROJECT": "p"}
    )
    assert result.stdout == "gs://p-ml/sciencebeam/pix2pix/v9-real-default/training"


def test_has_arg_knows_both_spellings_of_a_flag():
    script = "gym_has_arg --train_data_paths && echo yes || echo no"
    assert _shell(script, "--train-data-paths=x").stdout.strip() == "yes"
    assert _shell(script, "--train_data_paths", "x").stdout.strip() == "yes"
    assert _shell(script, "--train_data_pathsX", "x").stdout.strip() == "no"


def test_add_repeated_gives_one_flag_per_word_or_the_default():
    script = 'A=(); gym_add_repeated A --f LIST "dflt" || exit $?; printf "[%s]" "${A[@]}"'
    assert _shell(script).stdout == "[--f][dflt]"
    assert _shell(script, env_extra={"LIST": " "}).stdout == "[--f][dflt]"
    listed = _shell(script, env_extra={"LIST": "a/* 'b c/*':2 \"d e\" f\\ g"})
    assert listed.stdout == "[--f][a/*][--f][b c/*:2][--f][d e][--f][f g]"
    unclosed = _shell(script, env_extra={"LIST": "'a b"})
    assert unclosed.returncode == 2 and "LIST cannot be split into words" in unclosed.stderr
