"""The training run as named stages: config, data, devices, model, checkpoint, train loop.

    status = Trainer(config, paths, chief=True).run()   # paths: a RunPaths, made by task.py

Each stage is a method that announces itself in the log. The loop runs our own compiled step
(Pix2Pix.train_step under the distribution strategy) and, between steps, the timed hooks:
progress and scalars, checkpoints (after batch-norm recalibration), evaluation, a stop on a
non-finite loss, and a save-and-stop on SIGTERM / SIGINT.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import itertools
import math
import signal
import sys
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from sciencebeam_gym.color_map import CONFIG_CLASSES_KEY, default_color_map_path, load_color_map
from sciencebeam_gym.model_contract import image_size_of
from sciencebeam_gym.storage import fs
from sciencebeam_gym.trainer import config as config_module
from sciencebeam_gym.trainer import (
    data,
    distribute,
    evaluation,
    metrics,
    model_dir,
    optimizer,
    summaries,
)
from sciencebeam_gym.trainer.config import ConfigError
from sciencebeam_gym.trainer.model import Pix2Pix, build_models


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the message gives the step range."""


class OutputFullError(OSError):
    """The disk of the output folder is full; the message names the folder."""


def log(stage: str, message: str) -> None:
    print(f"[{stage}] {message}", file=sys.stderr, flush=True)


def is_disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    # ResourceExhaustedError is also an out-of-memory error: only the disk's message counts
    return isinstance(error, tf.errors.ResourceExhaustedError) and "No space left" in str(error)


class StopRequest:
    """SIGTERM / SIGINT ask the loop to save and stop; a second Ctrl-C stops at once."""

    def __init__(self):
        self.signal_number = None
        self._previous = {}

    def _handle(self, signal_number, _frame):
        if self.signal_number is not None and signal_number == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal_number = signal_number
        log("train", f"got signal {signal_number}: saving a checkpoint and stopping...")

    def install(self):
        for number in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError):  # not the main thread: no handlers
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def restore(self):
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    @property
    def requested(self) -> bool:
        return self.signal_number is not None


class Every:
    """Due every `freq` steps or `interval_secs` seconds, whichever comes first."""

    def __init__(self, freq: int, interval_secs: float):
        self.freq = freq
        self.interval_secs = interval_secs
        self.last_time = time.time()

    def due(self, step: int) -> bool:
        if step % self.freq == 0:
            return True
        return self.interval_secs > 0 and time.time() - self.last_time >= self.interval_secs

    def done(self):
        self.last_time = time.time()


def load_classes(config: dict):
    """The colour map of the run; its classes are copied into the config (for config.json)."""
    path = config["color_map"] or default_color_map_path()
    color_map = load_color_map(path)
    config["color_map"] = path
    config[CONFIG_CLASSES_KEY] = color_map.to_config()
    return color_map


def resolve_class_weights(config: dict, saved: dict | None, train_sources, color_map):
    """Class weights for weighted cross-entropy: the saved ones, --class_weights, or computed.

    Weights from a file or computed here are raised to `class_weights_power`; the result is
    saved in config.json, so a resumed run uses exactly the same weights.
    """
    if config["base_loss"] != "weighted_cross_entropy":
        return None
    if saved and saved.get("class_weight_values"):
        log("model", "class weights from the saved config.json")
        config["class_weight_values"] = saved["class_weight_values"]
        return np.asarray(saved["class_weight_values"], dtype=np.float32)
    weights = np.power(
        base_class_weights(config, train_sources, color_map), config["class_weights_power"]
    )
    weights = weights.astype(np.float32)
    log(
        "model",
        f"class weights (** {config['class_weights_power']}): background "
        f"{weights[0]:.3f}, min {weights.min():.3f}, max {weights.max():.3f}",
    )
    config["class_weight_values"] = [round(float(w), 6) for w in weights]
    return weights


def base_class_weights(config: dict, train_sources, color_map) -> np.ndarray:
    """Weights from --class_weights, or median-frequency weights of the training records
    (several sources: each read for its share of the records, counted by its share)."""
    from sciencebeam_gym.trainer import class_weights

    if config["class_weights"]:
        log("model", f"class weights from {config['class_weights']}")
        return class_weights.load_class_weights(config["class_weights"], color_map.labels)
    started = time.time()
    if len(train_sources) > 1:
        calculate, records = class_weights.calculate_mixed_class_weights, train_sources
    else:
        calculate, records = class_weights.calculate_class_weights, data.all_files(train_sources)
    document = calculate(
        records,
        color_map,
        max_records=config["class_weights_max_records"],
        source="training data",
        skip_corrupt=config["skip_corrupt_records"],
    )
    log(
        "model",
        f"median-frequency class weights from {document['image_counts'][0]} "
        f"training page(s) in {time.time() - started:.1f}s",
    )
    return np.asarray(document["weights"], dtype=np.float32)


def describe_source(found: data.SourceFiles) -> str:
    """`GLOB: N file(s), ~R record(s), share S%` (records when the reports tell them)."""
    records = data.estimate_records(found.files)
    counted = f", ~{records} record(s)" if records is not None else ""
    return (
        f"source {found.source.text}: {len(found.files)} file(s){counted}, share {found.share:.1%}"
    )


def training_batches(config, train_sources, target_colors, seed, augment=0.0, shuffle_buffer=0):
    """Shuffled training batches of the configured size, repeated forever (sources mixed)."""
    return data.make_dataset(
        train_sources,
        config["batch_size"],
        image_size_of(config),
        target_colors,
        training=True,
        shuffle_buffer=shuffle_buffer or config["shuffle_buffer"],
        skip_corrupt=config["skip_corrupt_records"],
        seed=seed,
        augment=augment,
    )


def make_batch_norm_recalibration(config, train_sources, target_colors, generator, replicas):
    """step -> bool: recompute the generator's batch-norm statistics, at most once per step.

    Uses `bn_recalibration_batches` unaugmented training batches (see
    model.recalibrate_batch_norm); True when the statistics changed. Off with 0 batches, and
    with several replicas, where the moving averages are kept.
    """
    from sciencebeam_gym.trainer.model import recalibrate_batch_norm

    batches = config["bn_recalibration_batches"]
    if not batches or replicas > 1:
        return lambda step: False
    pages = training_batches(
        config,
        train_sources,
        target_colors,
        seed=config["seed"] + 1,
        shuffle_buffer=min(config["shuffle_buffer"], 64),
    ).map(lambda page, _target: page)
    iterator = iter(pages)
    done = {"step": None}

    def recalibrate(step: int) -> bool:
        if done["step"] == step:
            return False
        recalibrate_batch_norm(generator, itertools.islice(iterator, batches))
        done["step"] = step
        return True

    log(
        "model",
        f"batch-norm statistics are recomputed from {batches} training batches before each "
        "evaluation and checkpoint",
    )
    return recalibrate


def channel_images(output: np.ndarray, config: dict) -> dict:
    """Per-class channel tiles of one generator output (values in [0, 1])."""
    from sciencebeam_gym.model_contract import is_cross_entropy

    if not config["use_separate_channels"]:
        return {}
    output = np.asarray(output, dtype=np.float32)
    if is_cross_entropy(config["base_loss"]):
        shifted = np.exp(output - output.max(axis=-1, keepdims=True))
        channels = (shifted / shifted.sum(axis=-1, keepdims=True))[..., 1:]
    else:
        channels = (output + 1.0) / 2.0
    return {"output_channels": summaries.tile_channels(channels)}


def eval_images(samples: dict, matrix: np.ndarray, config: dict, colors, labels) -> dict:
    """The TensorBoard images of one evaluation: pages, targets, outputs, confusion matrix."""
    images = {
        "input": summaries.page_to_uint8(samples["pages"]),
        "target": summaries.color_class_index(samples["true"], colors),
        "output": summaries.color_class_index(samples["predicted"], colors),
        "confusion_matrix": summaries.confusion_matrix_image(matrix, labels),
    }
    images.update(channel_images(samples["output"][0], config))
    if config["use_separate_channels"]:
        one_hot = samples["true"][0][..., None] == np.arange(1, len(labels) + 1)
        images["target_channels"] = summaries.tile_channels(one_hot)
    return images


def eval_scalars(summary: dict) -> dict:
    scalars = {
        "eval/macro_f1": summary["macro_f1"],
        "eval/pixel_accuracy": summary["pixel_accuracy"],
    }
    scalars.update(
        {f"eval_f1/{label}": m["f1"] for label, m in summary["classes"].items() if m["support"]}
    )
    for group, values in summary["groups"].items():
        scalars[f"eval/{group}/macro_f1"] = values["macro_f1"]
        scalars[f"eval/{group}/pixel_accuracy"] = values["pixel_accuracy"]
    return scalars


def nothing_to_sync() -> None:
    """The `sync` of a run whose outputs TensorFlow writes in place."""


@dataclasses.dataclass(frozen=True)
class RunPaths:
    """Where one run reads and writes, as TensorFlow can use them.

    The command line maps each gs:// path (a local copy, the /gcs mount or the URL itself, see
    `storage.tensorflow_paths`) and hands the result here; `sync` sends what TensorFlow wrote
    to its gs:// folders, and is called after each checkpoint.
    """

    found_sources: tuple[data.SourceFiles, ...]  # the training files as found (for the log)
    train_sources: tuple[data.SourceFiles, ...]  # the same files, as TensorFlow reads them
    eval_files: tuple[str, ...]
    output: str  # the output path, or its stand-in (a worker's: a folder of its own)
    checkpoints: str  # where this run's checkpoints are written
    events: str  # TensorBoard summaries go to <events>/train and <events>/eval
    resume_from: str  # the checkpoints a run resumes from (another worker's: the chief's)
    sync: Callable[[], object] = nothing_to_sync


class Trainer:
    """One training run; `run()` calls the stages in order and returns the exit status.

    TensorFlow writes checkpoints and summaries under `paths` (see RunPaths); only the chief
    saves config.json and syncs.
    """

    def __init__(self, config: dict, paths: RunPaths, chief: bool, write_predictions=False):
        self.config = config
        self.paths = paths
        self.chief = chief
        self.write_predictions = write_predictions
        self.step = 0
        self.last_saved = 0

    # --- stages ----------------------------------------------------------------------------

    def run(self) -> int:
        try:
            self.set_up_config()
            self.set_up_data()
            self.set_up_devices()
            self.build_model()
            self.restore()
            if self.step >= self.config["max_steps"]:
                return self.nothing_to_do()
            self.set_up_loop()
            return self.train_loop() or self.finish()
        except (OSError, tf.errors.ResourceExhaustedError) as error:
            if is_disk_full(error):
                raise OutputFullError(self.disk_full_message()) from None
            raise

    def set_up_config(self) -> None:
        config = self.config
        for line in config_module.describe_overrides(config):
            log("config", line)
        self.color_map = load_classes(config)
        self.colors = self.color_map.color_array
        self.target_colors = evaluation.target_colors(config, self.colors)
        self.saved = config_module.load_saved_config(config["output_path"])
        if self.saved:
            config_module.check_resumable(self.saved, config, config["output_path"])
        log("config", f"{self.color_map.num_classes} classes from {config['color_map']}")

    def set_up_data(self) -> None:
        paths = self.paths
        self.train_sources = list(paths.train_sources)
        self.train_files = data.all_files(self.train_sources)
        if len(paths.found_sources) > 1:
            for found in paths.found_sources:
                log("data", describe_source(found))
        self.eval_files = list(paths.eval_files)
        log(
            "data",
            f"{len(self.train_files)} training file(s), {len(self.eval_files)} evaluation file(s)",
        )

    def set_up_devices(self) -> None:
        config = self.config
        keras.utils.set_random_seed(config["seed"])
        self.strategy = distribute.choose_strategy()
        policy = distribute.apply_precision(distribute.choose_precision(config["precision"]))
        config["precision_policy"] = self.policy = policy
        try:
            distribute.per_replica_batch_size(config["batch_size"], self.strategy)
        except ValueError as error:
            raise ConfigError(str(error)) from error
        replicas = self.strategy.num_replicas_in_sync
        log("devices", f"{replicas} replica(s), precision {policy}")

    def build_model(self) -> None:
        config = self.config
        weights = resolve_class_weights(config, self.saved, self.train_sources, self.color_map)
        with self.strategy.scope():
            self.generator, discriminator = build_models(config, self.color_map.num_classes)
            self.model = Pix2Pix(
                self.generator,
                discriminator,
                config["base_loss"],
                config["use_separate_channels"],
                class_weights=weights,
            )
            self.gen_optimizer = optimizer.make_optimizer(config, self.policy)
            disc_optimizer = optimizer.make_optimizer(config, self.policy)
            self.model.compile(
                self.gen_optimizer, disc_optimizer, config["l1_weight"], config["gan_weight"]
            )
            self.gen_optimizer.build(self.generator.trainable_variables)
            disc_optimizer.build(discriminator.trainable_variables)
            self.step_var = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.checkpoint = model_dir.make_checkpoint(
            self.step_var, self.generator, discriminator, self.gen_optimizer, disc_optimizer
        )
        log(
            "model",
            "input {} x {} (W x H), ".format(*image_size_of(config))
            + f"generator {self.generator.count_params():,} parameters, discriminator "
            f"{discriminator.count_params():,}; loss {config['gan_weight']} x GAN + "
            f"{config['l1_weight']} x {config['base_loss']}",
        )

    def restore(self) -> None:
        config = self.config
        folder = self.paths.checkpoints
        if self.chief:
            model_dir.remove_partial_saves(folder)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, folder, config["save_max_to_keep"], checkpoint_name="ckpt"
        )
        latest = self.latest_checkpoint()
        if latest:
            model_dir.restore_checkpoint(self.checkpoint, latest, ConfigError)
            log("checkpoint", f"resuming from step {int(self.step_var.numpy())} ({latest})")
        else:
            log(
                "checkpoint",
                f"no checkpoint in {self.shown_checkpoint_dir()}: starting from scratch",
            )
        self.step = self.last_saved = int(self.step_var.numpy())
        if self.chief:
            config_module.save_config(config["output_path"], config)

    def latest_checkpoint(self) -> str | None:
        """The newest readable checkpoint; other workers read the chief's, once it saved."""
        if not self.chief and not self.saved:
            return None
        return model_dir.readable_checkpoint(self.paths.resume_from)

    def shown_checkpoint_dir(self) -> str:
        return self.config.get("checkpoint_path") or model_dir.checkpoint_dir(
            self.config["output_path"]
        )

    def nothing_to_do(self) -> int:
        log(
            "train",
            f"already trained to step {self.step} (max_steps {self.config['max_steps']}); "
            "nothing to do. Raise --max_steps to train further.",
        )
        return 0

    def set_up_loop(self) -> None:
        config, strategy = self.config, self.strategy
        dataset = training_batches(
            config,
            self.train_sources,
            self.target_colors,
            seed=config["seed"] + self.step,
            augment=config["augment"],
        )
        self.iterator = iter(strategy.experimental_distribute_dataset(dataset))
        self.recalibrate = make_batch_norm_recalibration(
            config,
            self.train_sources,
            self.target_colors,
            self.generator,
            strategy.num_replicas_in_sync,
        )
        self.train_step = self.compiled_step()
        self.predict_fn = evaluation.make_predict_fn(self.generator, config, self.colors)
        events = self.paths.events
        self.train_writer = tf.summary.create_file_writer(fs.join(events, "train"))
        self.eval_writer = tf.summary.create_file_writer(fs.join(events, "eval"))

    def compiled_step(self):
        strategy, model = self.strategy, self.model

        @tf.function
        def train_step(batch):
            per_replica_logs = strategy.run(model.train_step, args=(batch,))
            return {
                k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
                for k, v in per_replica_logs.items()
            }

        return train_step

    def train_loop(self) -> int | None:
        """Steps to max_steps with the hooks in between; an exit status when stopped early."""
        config = self.config
        stop = StopRequest().install()
        self.log_timer = Every(config["log_freq"], config["log_interval_secs"])
        self.eval_timer = Every(config["eval_freq"], config["eval_interval_secs"])
        self.save_timer = Every(config["save_freq"], config["save_interval_secs"])
        self.window = (self.step, time.time())
        per_replica = config["batch_size"] // self.strategy.num_replicas_in_sync
        log(
            "train",
            f"training from step {self.step} to {config['max_steps']}, batch "
            f"{config['batch_size']} ({per_replica} per replica)",
        )
        try:
            while self.step < config["max_steps"]:
                values = self.one_step()
                self.after_step(values)
                if self.save_due(stop):
                    self.save_on_schedule(stop)
                    if stop.requested:
                        log("train", f"stopped at step {self.step}; re-run to resume")
                        return 128 + stop.signal_number
                self.evaluate_on_schedule()
        finally:
            stop.restore()
        return None

    # --- one step and its hooks ------------------------------------------------------------

    def next_batch(self):
        try:
            return next(self.iterator)
        except StopIteration:
            paths = ", ".join(self.config["train_data_paths"])
            raise data.DataError(f"no readable records in {paths}") from None
        except tf.errors.OpError as error:
            raise data.explain_data_error(
                error,
                self.train_files,
                image_size_of(self.config),
                self.target_colors,
            ) from error

    def one_step(self) -> dict:
        logs = self.train_step(self.next_batch())
        values = {k: float(v) for k, v in logs.items()}
        if not all(math.isfinite(v) for v in values.values()):
            raise NonFiniteLossError(
                f"non-finite loss at step {self.step + 1} ({values}); the last good checkpoint "
                f"is step {self.last_saved} (steps {self.last_saved + 1}..{self.step + 1} are "
                "lost). Lower --lr, or check the data, then re-run to resume from it"
            )
        self.step += 1
        self.step_var.assign(self.step)
        return values

    def after_step(self, values: dict) -> None:
        if self.log_timer.due(self.step) or self.step == self.config["max_steps"]:
            self.log_progress(values)
            self.log_timer.done()

    def log_progress(self, values: dict) -> None:
        config, step = self.config, self.step
        now = time.time()
        elapsed = max(now - self.window[1], 1e-9)
        steps_done = step - self.window[0]
        images_per_sec = steps_done * config["batch_size"] / elapsed
        eta = (config["max_steps"] - step) * elapsed / max(steps_done, 1)
        shown = {
            k: v
            for k, v in values.items()
            if config["gan_weight"] > 0 or k in ("gen_total", "gen_base")
        }
        line = summaries.progress_line(step, config["max_steps"], shown, images_per_sec, eta)
        print(line, flush=True)
        scalars = {f"loss/{k}": v for k, v in values.items()}
        scalars["learning_rate"] = optimizer.current_learning_rate(self.gen_optimizer)
        scalars["images_per_sec"] = images_per_sec
        summaries.write_scalars(self.train_writer, step, scalars)
        self.window = (step, now)

    def save_due(self, stop: StopRequest) -> bool:
        return self.save_timer.due(self.step) or stop.requested

    def save_on_schedule(self, stop: StopRequest) -> None:
        if not stop.requested:
            self.recalibrate(self.step)
        self.save()
        self.save_timer.done()

    def evaluate_on_schedule(self) -> None:
        if self.eval_timer.due(self.step) and self.step < self.config["max_steps"]:
            self.recalibrate(self.step)
            self.evaluate()
            self.eval_timer.done()
            self.window = (self.step, time.time())

    def save(self) -> None:
        path = self.manager.save(checkpoint_number=self.step)
        self.last_saved = self.step
        if self.chief:
            self.train_writer.flush()
            self.eval_writer.flush()
            self.paths.sync()
            log("checkpoint", f"saved {path}")

    def evaluate(self, predictions_dir: str = "") -> dict | None:
        """Score the evaluation pages; scalars, images and a log line; predictions if asked."""
        if not self.eval_files:
            return None
        started = time.time()
        writer = (
            evaluation.PredictionWriter(predictions_dir, self.colors) if predictions_dir else None
        )
        result = evaluation.evaluate_files(
            self.predict_fn,
            self.eval_files,
            self.config,
            self.colors,
            batch_size=self.config["batch_size"],
            max_examples=self.config["eval_set_size"],
            skip_corrupt=self.config["skip_corrupt_records"],
            writer=writer,
        )
        labels = self.color_map.labels
        summary = evaluation.summarize(result, labels, self.step)
        summaries.write_scalars(self.eval_writer, self.step, eval_scalars(summary))
        if result.samples:
            images = eval_images(result.samples, result.matrix, self.config, self.colors, labels)
            summaries.write_images(self.eval_writer, self.step, images)
        weakest = ", ".join(f"{k} {v:.2f}" for k, v in metrics.weakest_classes(summary))
        log(
            "eval",
            f"step {self.step}: macro F1 {summary['macro_f1']:.4f}, pixel accuracy "
            f"{summary['pixel_accuracy']:.4f}, weakest: {weakest} "
            f"({time.time() - started:.1f}s)",
        )
        return summary

    def finish(self) -> int:
        """The final checkpoint (with recalibrated statistics) and the final evaluation."""
        if self.recalibrate(self.step) or self.last_saved != self.step:
            self.save()
        output_path = self.config["output_path"]
        self.evaluate(fs.join(output_path, "predictions") if self.write_predictions else "")
        self.train_writer.flush()
        self.eval_writer.flush()
        log("train", f"done: step {self.step}; checkpoints in {self.shown_checkpoint_dir()}")
        return 0

    def disk_full_message(self) -> str:
        return (
            f"no space left on the device of {self.config['output_path']} (while writing "
            f"under {self.paths.output}); free some space there and re-run: the checkpoints saved "
            f"before (step {self.last_saved}) are intact and training resumes from them"
        )
