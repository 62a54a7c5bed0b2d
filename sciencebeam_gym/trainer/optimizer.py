"""Adam with the published pix2pix schedule: constant, then linear decay to zero."""

from __future__ import annotations

import keras


class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`lr` until `decay_start`, then linearly down to 0 at `decay_end` (steps)."""

    def __init__(self, lr: float, decay_start: int, decay_end: int):
        self.lr = float(lr)
        self.decay_start = int(decay_start)
        self.decay_end = max(int(decay_end), self.decay_start + 1)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        remaining = (self.decay_end - step) / float(self.decay_end - self.decay_start)
        return self.lr * keras.ops.clip(remaining, 0.0, 1.0)

    def get_config(self):
        return {"lr": self.lr, "decay_start": self.decay_start, "decay_end": self.decay_end}


def learning_rate(config: dict):
    """A constant, or LinearDecay when `lr_decay_start` < 1 (a fraction of max_steps)."""
    if config["lr_decay_start"] >= 1.0:
        return config["lr"]
    start = int(config["max_steps"] * config["lr_decay_start"])
    return LinearDecay(config["lr"], start, config["max_steps"])


def current_learning_rate(optimizer) -> float:
    value = optimizer.learning_rate
    return float(keras.ops.convert_to_numpy(value))


def make_optimizer(config: dict, policy: str) -> keras.optimizers.Optimizer:
    """Adam; wrapped in loss scaling under float16 (bfloat16 has float32's range)."""
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate(config), beta_1=config["beta1"])
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
