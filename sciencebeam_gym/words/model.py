"""The word model: a linear-chain CRF (crfsuite) over each page's words in reading order.

A saved model is a folder, by default `word-model/` beside the vision model's export:

    model.crfsuite     the CRF
    word-model.json    feature_version, labels (the label set it was made for), painted (whether
                       it reads the vision model's classes, and which), the data it saw (sources,
                       weights, pages, words, groups), the training settings and time, figures

`load_word_model` refuses a model whose feature version or label set is not the code's, naming
both, so a model never runs on features it was not trained with.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sciencebeam_gym import class_labels
from sciencebeam_gym.color_map import UNKNOWN_LABEL
from sciencebeam_gym.storage import fs
from sciencebeam_gym.words.features import FEATURE_VERSION

WORD_MODEL_FOLDER = "word-model"
MODEL_FILE = "model.crfsuite"
INFO_FILE = "word-model.json"
# crfsuite's L-BFGS with elastic net: c1 keeps the many lexical features sparse.
DEFAULT_PARAMS = {"c1": 0.05, "c2": 0.01, "max_iterations": 60}


class WordModelError(ValueError):
    """A word model that cannot be used; the message names the folder and what to do."""


# Classes whose instances the word model marks where they begin (`B-<class>` on the first word
# of each affiliation, reference, section title), so that the fields can be cut into instances
# where no label or indent shows it.
START_CLASSES = (class_labels.AUTHOR_AFF, class_labels.REFERENCE, class_labels.SECTION_TITLE)
START_PREFIX = "B-"


def model_labels(class_labels: Sequence[str]) -> list[str]:
    """The label set of a word model for a colour map's class labels: each class, `unknown`
    for words no field claims, and `B-<class>` for the first word of an instance of the
    START_CLASSES the colour map has."""
    starts = [START_PREFIX + label for label in START_CLASSES if label in class_labels]
    return [*class_labels, UNKNOWN_LABEL, *starts]


def instance_labels(labels: Sequence[str], instances: Sequence[int]) -> list[str]:
    """The word model's labels of a page's words from their classes and instances: the first
    word of each instance of a START_CLASSES class (its class or instance differs from the
    word before's; NO_INSTANCE counts as one instance) gets `B-<class>`."""
    result = []
    previous = (None, None)
    for label, instance in zip(labels, instances, strict=True):
        if label in START_CLASSES and (label, instance) != previous:
            result.append(START_PREFIX + label)
        else:
            result.append(label)
        previous = (label, instance)
    return result


def split_label(label: str) -> tuple[str, bool]:
    """(class, whether the word begins an instance) of a word model's label."""
    if label.startswith(START_PREFIX):
        return label[len(START_PREFIX) :], True
    return label, False


def beside_export(export_path: str) -> str:
    """Where the word model of a vision model's export (or training folder) lies: beside it."""
    return fs.join(fs.dirname(export_path.rstrip("/")), WORD_MODEL_FOLDER)


@dataclass
class WordModel:
    """A loaded word model: `label_page(features)` gives each word's label."""

    tagger: object  # pycrfsuite.Tagger
    info: dict
    path: str
    labels: list[str] = field(default_factory=list)

    @property
    def painted(self) -> bool:
        """Whether the model reads the vision model's classes under the words."""
        return bool(self.info.get("painted"))

    @property
    def painted_labels(self) -> list[str]:
        return list(self.info.get("painted_labels", []))

    def label_page(self, features: list[dict]) -> list[str]:
        """The label of each word (features from `page_features`); `unknown` for none."""
        import pycrfsuite

        if not features:
            return []
        return list(self.tagger.tag(pycrfsuite.ItemSequence(features)))


def train_crf(
    sequences: Iterable[tuple[list[dict], list[str]]],
    params: dict | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[bytes, dict]:
    """Train a CRF on (features, labels) pages; the model file's bytes and what training saw."""
    import pycrfsuite

    trainer = _trainer(log)
    trainer.select("lbfgs")
    trainer.set_params({**DEFAULT_PARAMS, **(params or {}), "feature.possible_transitions": True})
    pages = words = 0
    started = time.monotonic()
    for features, labels in sequences:
        if features:
            trainer.append(pycrfsuite.ItemSequence(features), labels)
            pages += 1
            words += len(labels)
    prepared = time.monotonic()
    if log:
        log(f"word model: {pages} pages, {words} words appended ({prepared - started:.0f} s)")
    if not pages:
        raise WordModelError("no page with words to train on: check the token file globs")
    with tempfile.TemporaryDirectory(prefix="word-model-") as folder:
        path = os.path.join(folder, MODEL_FILE)
        trainer.train(path)
        with open(path, "rb") as handle:
            data = handle.read()
    figures = {
        "pages": pages,
        "words": words,
        "seconds_features": round(prepared - started, 1),
        "seconds_training": round(time.monotonic() - prepared, 1),
        "params": {**DEFAULT_PARAMS, **(params or {})},
    }
    return data, figures


def _trainer(log: Callable[[str], None] | None):
    """A crfsuite trainer that reports every tenth L-BFGS iteration to `log` and prints
    nothing else (crfsuite's own messages are parsed into events only when verbose)."""
    import pycrfsuite

    class QuietTrainer(pycrfsuite.Trainer):
        def on_start(self, log_text):
            pass

        def on_featgen_progress(self, log_text, percent):
            pass

        def on_featgen_end(self, log_text):
            pass

        def on_prepared(self, log_text):
            pass

        def on_iteration(self, log_text, info):
            number = info.get("num", 0)
            if log and (number % 10 == 0 or number == 1):
                log(
                    f"  iteration {number}: loss {info.get('loss', 0):.1f}, active features "
                    f"{info.get('active_features', 0)}, {info.get('time', 0):.1f} s"
                )

        def on_optimization_end(self, log_text):
            pass

        def on_end(self, log_text):
            pass

    return QuietTrainer(verbose=log is not None)


def save_word_model(path: str, model_bytes: bytes, info: dict) -> None:
    """Write the model folder: the CRF first, its description last (a folder without
    word-model.json is not a model)."""
    fs.delete([fs.join(path, INFO_FILE)])
    fs.write_bytes(fs.join(path, MODEL_FILE), model_bytes)
    document = {**info, "feature_version": FEATURE_VERSION}
    fs.write_text(fs.join(path, INFO_FILE), json.dumps(document, indent=1, ensure_ascii=False))


def read_info(path: str) -> dict:
    """A word model's description; WordModelError naming the folder when there is none."""
    info_path = fs.join(path, INFO_FILE)
    try:
        return json.loads(fs.read_bytes(info_path))
    except FileNotFoundError as error:
        raise WordModelError(
            f"{path}: no word model ({INFO_FILE} missing); train one with ./train-word-model.sh"
        ) from error
    except (OSError, ValueError) as error:
        raise WordModelError(f"{info_path}: cannot be read ({error})") from error


def check_info(path: str, info: dict, labels: Sequence[str]) -> None:
    """WordModelError when the model's feature version or label set differs from the code's."""
    version = info.get("feature_version")
    if version != FEATURE_VERSION:
        raise WordModelError(
            f"{path}: word model of feature version {version}, this toolkit computes version "
            f"{FEATURE_VERSION}; train it again with ./train-word-model.sh"
        )
    saved = list(info.get("labels", []))
    if saved != list(labels):
        missing = [label for label in labels if label not in saved]
        extra = [label for label in saved if label not in labels]
        raise WordModelError(
            f"{path}: word model made for another label set (not in the model: "
            f"{', '.join(missing) or '-'}; not in the colour map: {', '.join(extra) or '-'}"
            f"{'; in another order' if not missing and not extra else ''}); train it again "
            "with the colour map in use (./train-word-model.sh)"
        )


def load_word_model(path: str, labels: Sequence[str]) -> WordModel:
    """The word model in folder `path`, checked against the code's feature version and the
    label set `labels` (`model_labels` of the colour map in use); WordModelError if it differs."""
    import pycrfsuite

    info = read_info(path)
    check_info(path, info, labels)
    tagger = pycrfsuite.Tagger()
    model_path = fs.join(path, MODEL_FILE)
    if fs.is_remote(model_path):
        with tempfile.NamedTemporaryFile(suffix=".crfsuite", delete=False) as handle:
            handle.write(fs.read_bytes(model_path))
        model_path = handle.name
    try:
        tagger.open(model_path)
    except (OSError, ValueError) as error:
        raise WordModelError(f"{model_path}: not a crfsuite model ({error})") from error
    return WordModel(tagger, info, path, list(labels))
