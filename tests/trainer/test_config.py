import pytest

from sciencebeam_gym import model_contract
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


@pytest.mark.parametrize(
    ("overrides", "resolved_size"),
    [
        ({}, (256, 256, 256)),
        ({"image_size": 128}, (128, 128, 128)),
        ({"image_width": 256, "image_height": 320}, (0, 256, 320)),
        ({"image_size": 64, "image_height": 96}, (0, 64, 96)),
        ({"image_width": 96, "image_height": 96}, (96, 96, 96)),
    ],
)
def test_image_size_is_the_square_shorthand_and_width_height_win(overrides, resolved_size):
    resolved = config.resolve_config(None, overrides)
    assert (resolved["image_size"], resolved["image_width"], resolved["image_height"]) == (
        resolved_size
    )
    assert model_contract.image_size_of(resolved) == resolved_size[1:]


def test_a_size_off_the_stride_is_refused_naming_both_settings():
    with pytest.raises(
        ConfigError, match="image_width=256 and image_height=330 .* multiples of 32"
    ):
        config.resolve_config(None, {"image_width": 256, "image_height": 330})


def test_an_older_config_with_image_size_alone_is_square():
    resolved = config.resolve_config("smoke", {"image_size": 64})
    older = {k: v for k, v in resolved.items() if k not in ("image_width", "image_height")}
    assert model_contract.image_size_of(older) == (64, 64)
    config.check_resumable(older, resolved, "model")
    portrait = config.resolve_config("smoke", {"image_width": 64, "image_height": 96})
    with pytest.raises(ConfigError, match="image_height=64 but this run asks for image_height=96"):
        config.check_resumable(older, portrait, "model")
    with pytest.raises(KeyError, match="image_size"):
        model_contract.image_size_of({"ngf": 4})


@pytest.mark.parametrize("size", [{}, {"image_width": 64, "image_height": 96}])
def test_saved_config_round_trip_and_resume_check(tmp_path, size):
    resolved = config.resolve_config("smoke", size)
    resolved["classes"] = [{"key": 1, "label": "a", "color": [1, 2, 3]}]
    config.save_config(str(tmp_path), resolved)
    saved = config.load_saved_config(str(tmp_path))
    assert saved == resolved
    config.check_resumable(saved, dict(resolved, max_steps=99), str(tmp_path))
    with pytest.raises(ConfigError, match="ngf=8.*ngf=16"):
        config.check_resumable(saved, dict(resolved, ngf=16), str(tmp_path))
    with pytest.raises(ConfigError, match="image_width"):
        config.check_resumable(saved, dict(resolved, image_width=128), str(tmp_path))
    other_classes = dict(resolved, classes=[{"key": 1, "label": "b", "color": [1, 2, 3]}])
    with pytest.raises(ConfigError, match="colour map"):
        config.check_resumable(saved, other_classes, str(tmp_path))
