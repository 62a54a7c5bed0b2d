"""Train the pix2pix model on TFRecords; re-running resumes from the latest checkpoint.

    python -m sciencebeam_gym.trainer.task --preset quick \\
        --train_data_paths '.models/pix2pix/v4/preproc/train/*tfrecord*' \\
        --eval_data_paths '.models/pix2pix/v4/preproc/test/*tfrecord*' \\
        --output_path .models/pix2pix/v4-default/training

Every setting of `config.DEFAULTS` is a flag (`--ngf 32`, `--use_separate_channels false`);
`--preset` picks a named budget first. The run is cut into stages, each announced in the log:
config, data, model, checkpoint, train loop (progress, evaluation, checkpoints).
gs:// paths go through `sciencebeam_gym.staging.GcsStaging` (staged locally with a storage
emulator, the /gcs mount on Vertex AI, or TensorFlow's own Cloud Storage support). In a
multi-worker run only the chief writes checkpoints and summaries to the output path; the other
workers resume from it but write to a temporary folder of their own.
Exit status: 0 done (or nothing to do), 1 stopped on a non-finite loss, 2 bad input,
130/143 interrupted (checkpoint saved).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import shutil
import signal
import sys
import tempfile
import time

import numpy as np

from sciencebeam_gym import cli, fs
from sciencebeam_gym.color_map import (
    CONFIG_CLASSES_KEY,
    ColorMapError,
    default_color_map_path,
    load_color_map,
)
from sciencebeam_gym.gcs import StorageError
from sciencebeam_gym.trainer import config as config_module
from sciencebeam_gym.trainer.class_weights import ClassWeightsError
from sciencebeam_gym.trainer.config import DEFAULTS, ConfigError
from sciencebeam_gym.trainer.data import DataError

EXIT_NON_FINITE = cli.EXIT_FAILED
EXIT_BAD_INPUT = cli.EXIT_USAGE


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the message gives the step range."""


def log(stage: str, message: str) -> None:
    print(f"[{stage}] {message}", file=sys.stderr, flush=True)


# --- command line -------------------------------------------------------------------------------


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.trainer.task",
        description="Train the pix2pix page-structure model. Settings resolve as "
        "defaults <- --preset <- flags; the resolved config is saved as config.json in the "
        "output path, and a re-run resumes from the latest checkpoint there.",
    )
    parser.add_argument(
        "--preset",
        default="",
        help=f"named budget: {', '.join(sorted(config_module.PRESETS))} (TRAINING_PRESET)",
    )
    cli.add_job_dir(parser, alias_of="--output_path")
    parser.add_argument(
        "--write_predictions",
        action="store_true",
        help="after training, write coloured predictions of the evaluation pages",
    )
    for key, default in DEFAULTS.items():
        flag = f"--{key}"
        help_text = f"(default: {default!r})"
        if key == "color_map":
            cli.add_color_map(parser)
        elif isinstance(default, bool):
            parser.add_argument(flag, type=_bool, nargs="?", const=True, help=help_text)
        elif isinstance(default, list):
            parser.add_argument(flag, action="append", help="repeatable; " + help_text)
        else:
            parser.add_argument(flag, type=type(default), help=help_text)
    return parser


def config_from_args(args: argparse.Namespace) -> dict:
    overrides = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None}
    if args.job_dir and "output_path" not in overrides:
        overrides["output_path"] = args.job_dir
    config = config_module.resolve_config(args.preset or None, overrides)
    if not config["output_path"]:
        raise ConfigError("no output path: pass --output_path (TRAIN_MODEL_PATH) or --job-dir")
    return config


# --- stages ---------------------------------------------------------------------------------------


def load_classes(config: dict):
    path = config["color_map"] or default_color_map_path()
    color_map = load_color_map(path)
    config["color_map"] = path
    config[CONFIG_CLASSES_KEY] = color_map.to_config()
    return color_map


def resolve_class_weights(config: dict, saved: dict | None, train_files, color_map):
    """Class weights for weighted cross-entropy: the saved ones, --class_weights, or computed.

    Weights from a file or computed here are raised to `class_weights_power`; the result is
    saved in config.json, so a resumed run uses exactly the same weights.
    """
    from sciencebeam_gym.trainer import class_weights

    if config["base_loss"] != "weighted_cross_entropy":
        return None
    if saved and saved.get("class_weight_values"):
        weights = np.asarray(saved["class_weight_values"], dtype=np.float32)
        log("model", "class weights from the saved config.json")
        config["class_weight_values"] = saved["class_weight_values"]
        return weights
    if config["class_weights"]:
        weights = class_weights.load_class_weights(config["class_weights"], color_map.labels)
        log("model", f"class weights from {config['class_weights']}")
    else:
        started = time.time()
        document = class_weights.calculate_class_weights(
            train_files,
            color_map,
            max_records=config["class_weights_max_records"],
            source="training data",
        )
        weights = np.asarray(document["weights"], dtype=np.float32)
        log(
            "model",
            f"median-frequency class weights from {document['image_counts'][0]} "
            f"training page(s) in {time.time() - started:.1f}s",
        )
    weights = np.power(weights, config["class_weights_power"]).astype(np.float32)
    log(
        "model",
        f"class weights (** {config['class_weights_power']}): background "
        f"{weights[0]:.3f}, min {weights.min():.3f}, max {weights.max():.3f}",
    )
    config["class_weight_values"] = [round(float(w), 6) for w in weights]
    return weights


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


def train(config: dict, write_predictions: bool = False, gcs=None) -> int:
    """Train to config["max_steps"]; gs:// paths go through `gcs` (a GcsStaging)."""
    from sciencebeam_gym.staging import GcsStaging, is_chief

    if gcs is not None:
        return train_with(config, write_predictions, gcs, is_chief())
    with GcsStaging() as own_gcs:
        return train_with(config, write_predictions, own_gcs, is_chief())


def train_with(config: dict, write_predictions: bool, gcs, chief: bool) -> int:
    if chief:
        return train_to(config, write_predictions, gcs, gcs.output_dir(config["output_path"]), True)
    # Checkpoints are saved by every worker (saving is collective), but only the chief's go to
    # the output path: two workers writing the same checkpoint files break each other's saves.
    scratch = tempfile.mkdtemp(prefix="gym-worker-")
    try:
        return train_to(config, False, gcs, scratch, False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def train_to(config: dict, write_predictions: bool, gcs, tf_output: str, chief: bool) -> int:
    """The training run; TensorFlow writes checkpoints and summaries under `tf_output`."""
    import keras
    import tensorflow as tf

    from sciencebeam_gym.trainer import (
        data,
        distribute,
        evaluate,
        metrics,
        model_dir,
        optimizer,
        summaries,
    )
    from sciencebeam_gym.trainer.model import Pix2Pix, build_models

    output_path = config["output_path"]

    # --- config -----------------------------------------------------------------------------
    for line in config_module.describe_overrides(config):
        log("config", line)
    color_map = load_classes(config)
    colors = color_map.color_array
    target_colors = colors if config["use_separate_channels"] else None
    saved = config_module.load_saved_config(output_path)
    if saved:
        config_module.check_resumable(saved, config, output_path)
    log("config", f"{color_map.num_classes} classes from {config['color_map']}")

    # --- data -------------------------------------------------------------------------------
    complete = not config["allow_incomplete_data"]
    train_files = gcs.local_files(
        data.find_files(config["train_data_paths"], "training", "--train_data_paths", complete)
    )
    eval_files = (
        gcs.local_files(
            data.find_files(config["eval_data_paths"], "evaluation", "--eval_data_paths", complete)
        )
        if config["eval_data_paths"]
        else []
    )
    log("data", f"{len(train_files)} training file(s), {len(eval_files)} evaluation file(s)")

    # --- devices and precision ---------------------------------------------------------------
    keras.utils.set_random_seed(config["seed"])
    strategy = distribute.choose_strategy()
    policy = distribute.apply_precision(distribute.choose_precision(config["precision"]))
    config["precision_policy"] = policy
    try:
        distribute.per_replica_batch_size(config["batch_size"], strategy)
    except ValueError as error:
        raise ConfigError(str(error)) from error
    log("devices", f"{strategy.num_replicas_in_sync} replica(s), precision {policy}")

    # --- model ------------------------------------------------------------------------------
    weights = resolve_class_weights(config, saved, train_files, color_map)
    with strategy.scope():
        generator, discriminator = build_models(config, color_map.num_classes)
        model = Pix2Pix(
            generator,
            discriminator,
            config["base_loss"],
            config["use_separate_channels"],
            class_weights=weights,
        )
        gen_optimizer = optimizer.make_optimizer(config, policy)
        disc_optimizer = optimizer.make_optimizer(config, policy)
        model.compile(gen_optimizer, disc_optimizer, config["l1_weight"], config["gan_weight"])
        gen_optimizer.build(generator.trainable_variables)
        disc_optimizer.build(discriminator.trainable_variables)
        step_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    log(
        "model",
        f"generator {generator.count_params():,} parameters, discriminator "
        f"{discriminator.count_params():,}; loss {config['gan_weight']} x GAN + "
        f"{config['l1_weight']} x {config['base_loss']}",
    )

    # --- checkpoint -------------------------------------------------------------------------
    checkpoint = model_dir.make_checkpoint(
        step_var, generator, discriminator, gen_optimizer, disc_optimizer
    )
    manager = tf.train.CheckpointManager(
        checkpoint,
        model_dir.checkpoint_dir(tf_output),
        config["save_max_to_keep"],
        checkpoint_name="ckpt",
    )
    if chief:
        latest = manager.latest_checkpoint
    else:  # the chief's latest checkpoint, so that every worker starts at the same step
        latest = model_dir.latest_checkpoint(gcs.input_dir(output_path)) if saved else None
    if latest:
        try:
            checkpoint.restore(latest).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as error:
            raise ConfigError(
                f"cannot resume from {latest}: it does not fit this model "
                f"({str(error).splitlines()[0][:300]}); use another output path"
            ) from error
        log(
            "checkpoint",
            f"resuming from step {int(step_var.numpy())} ({latest})",
        )
    else:
        log(
            "checkpoint",
            f"no checkpoint in {model_dir.checkpoint_dir(output_path)}: starting from scratch",
        )
    step = int(step_var.numpy())
    if chief:
        config_module.save_config(output_path, config)
    if step >= config["max_steps"]:
        log(
            "train",
            f"already trained to step {step} (max_steps {config['max_steps']}); "
            "nothing to do. Raise --max_steps to train further.",
        )
        return 0

    # --- train loop -------------------------------------------------------------------------
    per_replica = config["batch_size"] // strategy.num_replicas_in_sync
    train_dataset = training_batches(
        config, train_files, target_colors, seed=config["seed"] + step, augment=config["augment"]
    )
    iterator = iter(strategy.experimental_distribute_dataset(train_dataset))
    recalibrate = make_batch_norm_recalibration(
        config, train_files, target_colors, generator, strategy.num_replicas_in_sync
    )

    @tf.function
    def train_step(batch):
        per_replica_logs = strategy.run(model.train_step, args=(batch,))
        return {
            k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
            for k, v in per_replica_logs.items()
        }

    predict_fn = evaluate.make_predict_fn(generator, config, colors)
    train_writer = tf.summary.create_file_writer(fs.join(tf_output, "train"))
    eval_writer = tf.summary.create_file_writer(fs.join(tf_output, "eval"))
    labels = color_map.labels

    def run_evaluation(at_step: int, write_images: bool = True, predictions_dir: str = ""):
        if not eval_files:
            return None
        started = time.time()
        eval_dataset = data.make_dataset(
            eval_files,
            config["batch_size"],
            config["image_size"],
            target_colors,
            training=False,
            skip_corrupt=config["skip_corrupt_records"],
            with_uris=True,
        )
        samples = {}

        def keep_samples(pages, true_index, predicted, output, uris):
            if not samples:
                samples.update(
                    pages=pages[:3], true=true_index[:3], predicted=predicted[:3], output=output[:1]
                )
            if predictions_dir:
                for i in range(len(pages)):
                    uri = uris[i].decode("utf-8") if uris is not None else ""
                    stem = evaluate.prediction_stem(uri, i)
                    image = summaries.color_class_index(predicted[i], colors)
                    fs.write_bytes(
                        fs.join(predictions_dir, stem + ".png"), evaluate.png_bytes(image)
                    )

        try:
            matrix = evaluate.evaluate_batches(
                predict_fn, eval_dataset, config, colors, config["eval_set_size"], keep_samples
            )
        except tf.errors.OpError as error:
            raise data.explain_data_error(
                error, eval_files, config["image_size"], target_colors
            ) from error
        summary = metrics.summarize(matrix, labels, at_step)
        scalars = {
            "eval/macro_f1": summary["macro_f1"],
            "eval/pixel_accuracy": summary["pixel_accuracy"],
        }
        scalars.update(
            {f"eval_f1/{label}": m["f1"] for label, m in summary["classes"].items() if m["support"]}
        )
        summaries.write_scalars(eval_writer, at_step, scalars)
        if write_images and samples:
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
            summaries.write_images(eval_writer, at_step, images)
        weakest = ", ".join(f"{k} {v:.2f}" for k, v in metrics.weakest_classes(summary))
        log(
            "eval",
            f"step {at_step}: macro F1 {summary['macro_f1']:.4f}, pixel accuracy "
            f"{summary['pixel_accuracy']:.4f}, weakest: {weakest} "
            f"({time.time() - started:.1f}s)",
        )
        return summary

    def save(at_step: int):
        path = manager.save(checkpoint_number=at_step)
        if chief:
            train_writer.flush()
            eval_writer.flush()
            gcs.sync()
            log("checkpoint", f"saved {path}")
        return at_step

    stop = StopRequest().install()
    log_timer = Every(config["log_freq"], config["log_interval_secs"])
    eval_timer = Every(config["eval_freq"], config["eval_interval_secs"])
    save_timer = Every(config["save_freq"], config["save_interval_secs"])
    window = {"step": step, "time": time.time()}
    last_saved = step
    log(
        "train",
        f"training from step {step} to {config['max_steps']}, batch "
        f"{config['batch_size']} ({per_replica} per replica)",
    )
    try:
        while step < config["max_steps"]:
            try:
                batch = next(iterator)
            except StopIteration:
                raise DataError(
                    f"no readable records in {', '.join(config['train_data_paths'])}"
                ) from None
            except tf.errors.OpError as error:
                raise data.explain_data_error(
                    error, train_files, config["image_size"], target_colors
                ) from error
            logs = train_step(batch)
            values = {k: float(v) for k, v in logs.items()}
            if not all(math.isfinite(v) for v in values.values()):
                raise NonFiniteLossError(
                    f"non-finite loss at step {step + 1} ({values}); the last good checkpoint "
                    f"is step {last_saved} (steps {last_saved + 1}..{step + 1} are lost). "
                    "Lower --lr, or check the data, then re-run to resume from it"
                )
            step += 1
            step_var.assign(step)
            if log_timer.due(step) or step == config["max_steps"]:
                now = time.time()
                elapsed = max(now - window["time"], 1e-9)
                steps_done = step - window["step"]
                images_per_sec = steps_done * config["batch_size"] / elapsed
                eta = (config["max_steps"] - step) * elapsed / max(steps_done, 1)
                shown = {
                    k: v
                    for k, v in values.items()
                    if config["gan_weight"] > 0 or k in ("gen_total", "gen_base")
                }
                print(
                    summaries.progress_line(step, config["max_steps"], shown, images_per_sec, eta),
                    flush=True,
                )
                scalars = {f"loss/{k}": v for k, v in values.items()}
                scalars["learning_rate"] = optimizer.current_learning_rate(gen_optimizer)
                scalars["images_per_sec"] = images_per_sec
                summaries.write_scalars(train_writer, step, scalars)
                window = {"step": step, "time": now}
                log_timer.done()
            if save_timer.due(step) or stop.requested:
                if not stop.requested:
                    recalibrate(step)
                last_saved = save(step)
                save_timer.done()
                if stop.requested:
                    log("train", f"stopped at step {step}; re-run to resume")
                    return 128 + stop.signal_number
            if eval_timer.due(step) and step < config["max_steps"]:
                recalibrate(step)
                run_evaluation(step)
                eval_timer.done()
                window = {"step": step, "time": time.time()}
    finally:
        stop.restore()
    if recalibrate(step) or last_saved != step:
        save(step)
    predictions_dir = fs.join(output_path, "predictions") if write_predictions else ""
    run_evaluation(step, predictions_dir=predictions_dir)
    train_writer.flush()
    eval_writer.flush()
    log("train", f"done: step {step}; checkpoints in {model_dir.checkpoint_dir(output_path)}")
    return 0


def training_batches(config, train_files, target_colors, seed, augment=0.0, shuffle_buffer=0):
    """Shuffled training batches of the configured size, repeated forever."""
    from sciencebeam_gym.trainer import data

    return data.make_dataset(
        train_files,
        config["batch_size"],
        config["image_size"],
        target_colors,
        training=True,
        shuffle_buffer=shuffle_buffer or config["shuffle_buffer"],
        skip_corrupt=config["skip_corrupt_records"],
        seed=seed,
        augment=augment,
    )


def make_batch_norm_recalibration(config, train_files, target_colors, generator, replicas):
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
        train_files,
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
    from sciencebeam_gym.trainer import summaries
    from sciencebeam_gym.trainer.losses import is_cross_entropy

    if not config["use_separate_channels"]:
        return {}
    output = np.asarray(output, dtype=np.float32)
    if is_cross_entropy(config["base_loss"]):
        shifted = np.exp(output - output.max(axis=-1, keepdims=True))
        channels = (shifted / shifted.sum(axis=-1, keepdims=True))[..., 1:]
    else:
        channels = (output + 1.0) / 2.0
    return {"output_channels": summaries.tile_channels(channels)}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        return train(config, write_predictions=args.write_predictions)
    except (ConfigError, DataError, ColorMapError, ClassWeightsError, StorageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_NON_FINITE


if __name__ == "__main__":
    sys.exit(main())
