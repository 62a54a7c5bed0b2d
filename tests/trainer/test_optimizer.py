import pytest

from sciencebeam_gym.trainer import config, optimizer


def test_linear_decay_schedule():
    schedule = optimizer.LinearDecay(1.0, decay_start=10, decay_end=20)
    assert float(schedule(0)) == pytest.approx(1.0)
    assert float(schedule(10)) == pytest.approx(1.0)
    assert float(schedule(15)) == pytest.approx(0.5)
    assert float(schedule(20)) == pytest.approx(0.0)
    assert float(schedule(30)) == pytest.approx(0.0)


def test_learning_rate_from_config():
    constant = config.resolve_config(None, {"lr": 0.01})
    assert optimizer.learning_rate(constant) == 0.01
    decayed = config.resolve_config(None, {"lr": 0.01, "max_steps": 100, "lr_decay_start": 0.5})
    schedule = optimizer.learning_rate(decayed)
    assert float(schedule(75)) == pytest.approx(0.005)
