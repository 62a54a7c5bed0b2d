"""Train the word labeller (a CRF over each page's words) on token files.

    python -m sciencebeam_gym.words.train \\
        --tokens '.models/pix2pix/v4-sample/data/train/**/*.tokens.json' \\
        --tokens '.models/pix2pix/v4-real/data/train/**/*.tokens.json:2' \\
        --saved_model .models/pix2pix/v4-real-default/export \\
        --output .models/pix2pix/v4-real-default/word-model

Sources are `GLOB[:WEIGHT]` as train.sh's (a weight of 2 gives each page twice, 0.5 half the
pages, drawn by a seeded hash); a folder means every token file under it. With --saved_model
(the vision model) each word also gets the classes it paints under the word, from the page PNG
beside the token file; --no_painted trains without them. --exclude_groups leaves publishers
out (the folder between split and document). --eval_tokens scores the model on other token files
after training (word-level precision, recall, F1 per class). The model and `word-model.json`
(feature version, labels, data, settings, figures) go to --output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sciencebeam_gym import cli
from sciencebeam_gym.color_map import UNKNOWN_LABEL, default_color_map_path, load_color_map
from sciencebeam_gym.document.tokens import (
    NO_INSTANCE,
    PageTokens,
    TokenFileError,
    find_token_files,
    read_tokens,
)
from sciencebeam_gym.storage import fs
from sciencebeam_gym.weighted_sources import parse_source
from sciencebeam_gym.words.features import PageInfo, page_features, reading_sequence
from sciencebeam_gym.words.model import (
    DEFAULT_PARAMS,
    WordModelError,
    instance_labels,
    model_labels,
    save_word_model,
    train_crf,
)

PAINTED_CACHE = "painted-cache"
# Pages with more unknown words than this share are left out of training (`PageReader._aligned`).
MAX_UNKNOWN = 0.5


class TrainError(cli.CliError):
    """A flag, source or file the user has to fix."""


@dataclass(frozen=True)
class TokenPage:
    """A token file to train on: its path, its group (from its folder) and its source's weight."""

    path: str
    group: str
    weight: float
    source: str


def group_of(path: str) -> str:
    """The group of `<split>/<group>/<doc_id>/<file>`: the folder two above the file."""
    parts = path.replace("\\", "/").split("/")
    return parts[-3] if len(parts) >= 3 else ""


def find_pages(
    values: Sequence[str], exclude_groups: Sequence[str] = (), flag: str = "--tokens"
) -> list[TokenPage]:
    """The token files of each `GLOB[:WEIGHT]` source, without the excluded groups; TrainError
    naming a source that finds none."""
    pages = []
    excluded = set(exclude_groups)
    for value in values:
        source = parse_source(value, flag, TrainError)
        paths = sorted({p for pattern in source.globs for p in find_token_files(pattern)})
        if not paths:
            raise TrainError(
                f"{flag} {value}: no token file (*.tokens.json) found; write them with "
                "./generate-data.sh or ./generate-sample-data.sh --format pdf"
            )
        pages.extend(
            TokenPage(path, group_of(path), source.weight, value)
            for path in paths
            if group_of(path) not in excluded
        )
    return pages


def copies(page: TokenPage, seed: int) -> int:
    """How many times a page is trained on: the weight's whole part, plus one more for a share
    of the pages equal to its fraction (chosen by a hash of the path and the seed)."""
    whole = int(page.weight)
    fraction = page.weight - whole
    if not fraction:
        return whole
    digest = hashlib.sha1(f"{seed}/{page.path}".encode()).hexdigest()
    return whole + (int(digest[:8], 16) / 0x100000000 < fraction)


def in_reading_order(tokens: PageTokens) -> PageTokens:
    """The page's words (and their instances) in the order the word model reads them."""
    order = reading_sequence(tokens.words)
    tokens.words = [tokens.words[i] for i in order]
    if tokens.instances:
        tokens.instances = [tokens.instances[i] for i in order]
    return tokens


def page_info(tokens: PageTokens) -> PageInfo:
    return PageInfo(tokens.width, tokens.height, tokens.page, tokens.pages)


class PageReader:
    """Token files -> (features, labels), with the painted classes when a labeller is given."""

    def __init__(
        self,
        labels: Sequence[str],
        painted=None,
        fill_lines: bool = False,
        max_unknown: float = 1.0,
    ):
        self.labels = set(labels)
        self.painted = painted  # painted.PaintedMaps or None
        self.fill_lines = fill_lines  # unknown words of mostly classed lines take their class
        self.max_unknown = max_unknown  # pages with a larger share of unknown words are skipped
        self.skipped: list[str] = []  # token files left out for their unknown share
        self.foreign: Counter = Counter()  # labels of the token files the label set lacks

    def read(self, paths: Sequence[str]) -> Iterator[tuple[PageTokens, list[dict], list[str]]]:
        """Each file's tokens, features and labels, in batches (the labeller paints a batch)."""
        from sciencebeam_gym.words.painted import word_shares

        for start in range(0, len(paths), 16):
            batch = [in_reading_order(read_tokens(path)) for path in paths[start : start + 16]]
            batch = [tokens for tokens in batch if self._aligned(tokens)]
            maps = self.painted.class_maps([t.path for t in batch]) if self.painted else None
            for index, tokens in enumerate(batch):
                shares, names = None, ()
                if maps is not None:
                    names = self.painted.labels
                    shares = word_shares(tokens, maps[index], len(names))
                features = page_features(tokens.words, page_info(tokens), shares, names)
                yield tokens, features, self._labels(tokens)

    def _aligned(self, tokens: PageTokens) -> bool:
        """Whether most of the page's words have a class: a page the alignment mostly missed
        (a text layer it could not read, a supplement the XML does not hold) would teach that
        text is unknown."""
        labels = tokens.labels
        unknown = sum(label == UNKNOWN_LABEL for label in labels)
        if labels and unknown > self.max_unknown * len(labels):
            self.skipped.append(tokens.path)
            return False
        return True

    def _labels(self, tokens: PageTokens) -> list[str]:
        labels = tokens.labels
        for index, label in enumerate(labels):
            if label not in self.labels:
                self.foreign[label] += 1
                labels[index] = UNKNOWN_LABEL
        instances = tokens.instances or [NO_INSTANCE] * len(labels)
        if self.fill_lines:
            labels, instances = filled_lines(tokens.words, labels, instances)
        return instance_labels(labels, instances)


# A line whose classed words are of one class and at least this share of its words: its unknown
# words take that class (the alignment missed them: a heading word, a name it could not match).
FILL_LINE_SHARE = 0.5


def filled_lines(words, labels: list[str], instances: list[int]) -> tuple[list[str], list[int]]:
    """Labels with the unknown words of a mostly classed line given its class and the instance
    of the classed word before them (after them at the line's start)."""
    labels, instances = list(labels), list(instances)
    lines: dict[int, list[int]] = {}
    for index, word in enumerate(words):
        lines.setdefault(word.line, []).append(index)
    for members in lines.values():
        known = [i for i in members if labels[i] != UNKNOWN_LABEL]
        classes = {labels[i] for i in known}
        if len(classes) != 1 or len(known) < FILL_LINE_SHARE * len(members):
            continue
        label = classes.pop()
        instance = instances[known[0]]
        for index in members:
            if labels[index] == UNKNOWN_LABEL:
                labels[index], instances[index] = label, instance
            else:
                instance = instances[index]
    return labels, instances


def training_sequences(pages: list[TokenPage], reader: PageReader, seed: int, log=print):
    """(features, labels) of every page, repeated as its weight says; progress logged."""
    wanted = [(page, copies(page, seed)) for page in pages]
    wanted = [(page, n) for page, n in wanted if n]
    started = time.monotonic()
    counts = {page.path: n for page, n in wanted}
    for done, (tokens, features, labels) in enumerate(reader.read(list(counts)), start=1):
        for _ in range(counts[tokens.path]):
            yield features, labels
        if done % 200 == 0:
            log(f"  {done}/{len(counts)} pages read ({time.monotonic() - started:.0f} s)")


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m sciencebeam_gym.words.train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument(
        "--tokens", action="append", required=True, help="token files: GLOB[:WEIGHT] (repeat)"
    )
    parser.add_argument("--output", required=True, help="the word model's folder")
    painted = parser.add_mutually_exclusive_group()
    painted.add_argument("--saved_model", default="", help="the vision model's export")
    parser.add_argument(
        "--export_path", default="", help="the configured export, used without --saved_model"
    )
    painted.add_argument(
        "--no_painted", action="store_true", help="without the vision model's classes"
    )
    parser.add_argument(
        "--painted_cache",
        default="",
        help=f"class maps of the pages, per vision model (default: {PAINTED_CACHE}/ beside "
        "--output)",
    )
    parser.add_argument(
        "--exclude_groups", default="", help="groups (publishers) left out, comma-separated"
    )
    parser.add_argument(
        "--eval_tokens", action="append", default=[], help="token files to score after training"
    )
    cli.add_color_map(parser)
    parser.add_argument("--c1", type=float, default=DEFAULT_PARAMS["c1"], help="L1 weight")
    parser.add_argument("--c2", type=float, default=DEFAULT_PARAMS["c2"], help="L2 weight")
    parser.add_argument(
        "--max_iterations",
        type=cli.positive_int,
        default=DEFAULT_PARAMS["max_iterations"],
        help="L-BFGS iterations (%(default)s)",
    )
    parser.add_argument("--seed", type=int, default=1, help="draws fractional weights (1)")
    parser.add_argument(
        "--max_unknown",
        type=float,
        default=MAX_UNKNOWN,
        help="train only on pages with at most this share of unknown words (%(default)s)",
    )
    parser.add_argument(
        "--fill_lines",
        action="store_true",
        help="unknown words of a line mostly of one class take that class (alignment misses)",
    )
    return parser


def painted_maps(args: argparse.Namespace):
    """The vision model's class maps of the pages (None with --no_painted)."""
    if args.no_painted:
        return None
    from sciencebeam_gym.serving.labeller import load_labeller
    from sciencebeam_gym.words.painted import PaintedMaps

    try:
        labeller = load_labeller(saved_model=args.saved_model)
    except ValueError as error:
        raise TrainError(f"--saved_model: {error}") from error
    root = args.painted_cache or fs.join(fs.dirname(args.output.rstrip("/")), PAINTED_CACHE)
    return PaintedMaps(labeller, fs.join(root, model_key(args.saved_model)))


def model_key(export: str) -> str:
    """A folder name for one export: its path and the time its files were written."""
    stamp = ""
    graph = os.path.join(export, "saved_model.pb")
    if os.path.exists(graph):
        stamp = str(int(os.path.getmtime(graph)))
    name = os.path.basename(os.path.dirname(os.path.abspath(export))) or "export"
    digest = hashlib.sha1(f"{os.path.abspath(export)}/{stamp}".encode()).hexdigest()[:12]
    return f"{name}-{digest}"


def evaluate_pages(model, pages: list[TokenPage], reader: PageReader) -> dict:
    """Word-level figures of `model` on token files (every page, however much is unknown)."""
    from sciencebeam_gym.words.evaluate import count_labels, scores

    reader = PageReader(reader.labels, reader.painted)
    pairs = (
        (labels, model.label_page(features))
        for _tokens, features, labels in reader.read([p.path for p in pages])
    )
    return scores(count_labels(pairs))


def check_vision_model(args: argparse.Namespace) -> None:
    """Settle `args.saved_model` (else the configured export); TrainError when painted classes
    are wanted and there is no export to paint them."""
    if args.no_painted:
        return
    args.saved_model = args.saved_model or args.export_path
    if not args.saved_model:
        raise TrainError("pass --saved_model EXPORT (the vision model) or --no_painted")
    if not fs.is_gcs(args.saved_model) and not fs.exists(args.saved_model):
        raise TrainError(
            f"no vision model export at {args.saved_model} to read the painted classes from; "
            "export one with ./save-model.sh, or train without them: --no_painted"
        )


def run(argv: Sequence[str] | None = None, log=print) -> dict:
    """Train, save and (with --eval_tokens) score a word model; its description."""
    args = build_parser().parse_args(argv)
    check_vision_model(args)
    color_map = load_color_map(args.color_map or default_color_map_path())
    labels = model_labels(color_map.labels)
    excluded = [g for g in args.exclude_groups.split(",") if g]
    pages = find_pages(args.tokens, excluded)
    eval_pages = find_pages(args.eval_tokens, (), "--eval_tokens") if args.eval_tokens else []
    painted = painted_maps(args)
    reader = PageReader(labels, painted, args.fill_lines, args.max_unknown)
    params = {"c1": args.c1, "c2": args.c2, "max_iterations": args.max_iterations}
    log(f"word model: {len(pages)} token files of {len(set(p.source for p in pages))} sources")
    started = time.monotonic()
    try:
        model_bytes, figures = train_crf(
            training_sequences(pages, reader, args.seed, log), params, log
        )
    except (TokenFileError, ValueError) as error:
        raise TrainError(str(error)) from error
    info = _info(args, labels, painted, pages, figures, reader)
    info["arguments"] = list(argv) if argv is not None else sys.argv[1:]
    info["seconds"] = round(time.monotonic() - started, 1)
    save_word_model(args.output, model_bytes, info)
    if eval_pages:
        from sciencebeam_gym.words.model import load_word_model

        model = load_word_model(args.output, labels)
        info["evaluation"] = evaluate_pages(model, eval_pages, reader)
        save_word_model(args.output, model_bytes, info)
    return info


def _info(args, labels, painted, pages: list[TokenPage], figures: dict, reader) -> dict:
    sources = {}
    for page in pages:
        row = sources.setdefault(page.source, {"weight": page.weight, "pages": 0, "groups": {}})
        row["pages"] += 1
        row["groups"][page.group] = row["groups"].get(page.group, 0) + 1
    return {
        "labels": list(labels),
        "painted": painted is not None,
        "painted_labels": painted.labels if painted else [],
        "vision_model": os.path.abspath(args.saved_model) if painted else "",
        "sources": sources,
        "excluded_groups": [g for g in args.exclude_groups.split(",") if g],
        "eval_tokens": args.eval_tokens,
        "foreign_labels": dict(reader.foreign),
        "pages_mostly_unknown": len(reader.skipped),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **figures,
    }


def main(argv: Sequence[str] | None = None) -> int:
    try:
        info = run(argv)
    except (cli.CliError, WordModelError, TokenFileError) as error:
        return cli.report_error(error)
    summary = {k: info[k] for k in ("pages", "words", "seconds", "painted") if k in info}
    print(f"word model written: {json.dumps(summary)}")
    if "evaluation" in info:
        from sciencebeam_gym.words.evaluate import format_scores

        print(format_scores(info["evaluation"]))
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
