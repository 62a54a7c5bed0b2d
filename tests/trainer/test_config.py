import pytest

from sciencebeam_gym.trainer import config
from sciencebeam_gym.trainer.config import ConfigError


def test_defaults_keep_the_published_pix2pix_flags():
    resolved = config.resolve_config()
    assert (resolved["ngf"], resolved["ndf"], resolved["lr"], resolved["beta1"]) == (
        64,
        64,
        0.0002,
        0.5,
    )
    assert (resolved["l1_weight"], resolved["gan_weight"]) == (100.0, 1.0)
    assert resolved["base_loss"] in config.BASE_LOSSES


def test_preset_then_overrides():
    resolved = config.resolve_config("quick", {"ngf": 24})
    assert resolved["ngf"] == 24
    assert resolved["max_steps"] == config.PRESETS["quick"]["max_steps"]
    assert resolved["base_loss"] == config.PRESETS["quick"]["base_loss"]


def test_unknown_key_refused():
    with pytest.raises(ConfigError, match="unknown setting.*ngff"):
        config.resolve_config(None, {"ngff": 3})


def test_unknown_preset_refused():
    with pytest.raises(ConfigError, match="unknown preset 'fast'.*quick"):
        config.resolve_config("fast")


@pytest.mark.parametrize(
    ("key", "value"),
    [("ngf", "many"), ("ngf", 1.5), ("lr", "x"), ("use_separate_channels", "maybe"), ("ngf", True)],
)
def test_override_types_checked(key, value):
    with pytest.raises(ConfigError, match=key):
        config.resolve_config(None, {key: value})


def test_override_types_converted():
    resolved = config.resolve_config(None, {"lr": 1, "use_separate_channels": "false"})
    assert resolved["lr"] == 1.0 and isinstance(resolved["lr"], float)
    assert resolved["use_separate_channels"] is False
    assert resolved["base_loss"] == "L1"  # RGB output: the original's loss


@pytest.mark.parametrize(
    "overrides",
    [
        {"base_loss": "dice"},
        {"image_size": 100},
        {"batch_size": 0},
        {"l1_weight": 0.0, "gan_weight": 0.0},
        {"use_separate_channels": False, "base_loss": "cross_entropy"},
    ],
)
def test_invalid_values_refused(overrides):
    with pytest.raises(ConfigError):
        config.resolve_config(None, overrides)


def test_saved_config_round_trip_and_resume_check(tmp_path):
    resolved = config.resolve_config("smoke")
    resolved["classes"] = [{"key": 1, "label": "a", "color": [1, 2, 3]}]
    config.save_config(str(tmp_path), resolved)
    saved = config.load_saved_config(str(tmp_path))
    assert saved == resolved
    config.check_resumable(saved, dict(resolved, max_steps=99), str(tmp_path))
    with pytest.raises(ConfigError, match="ngf=8.*ngf=16"):
        config.check_resumable(saved, dict(resolved, ngf=16), str(tmp_path))
    other_classes = dict(resolved, classes=[{"key": 1, "label": "b", "color": [1, 2, 3]}])
    with pytest.raises(ConfigError, match="colour map"):
        config.check_resumable(saved, other_classes, str(tmp_path))
