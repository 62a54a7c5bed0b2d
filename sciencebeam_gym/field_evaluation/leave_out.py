"""Leave-publisher-out: the field figures of publishers the word model never saw.

    ./evaluate-extraction.sh --leave_out publisher --source ../shared/data/pdf-jats \\
        --source ../shared/data/pdf-jats-more --exclude_groups hindawi \\
        --tokens '.models/pix2pix/v4-sample/data/train' --tokens /data/words/more ...

The documents of the sources are grouped by publisher (as `generate-data.sh --group publisher`
names the folders of their token files). The publishers are split into `--folds` folds of whole
publishers, the largest first into the fold with the fewest documents (as scikit-learn's
GroupKFold does), the imprints of one publisher (springer-berlin-heidelberg and
springer-netherlands: the first word of the name) in one fold; for each fold a word model is trained on the token files of
every other group (`--tokens`, GLOB[:WEIGHT]; token files of the fold's publishers left out by
their folder) and scores the fold's documents. `--exclude_groups` names publishers that are not
scored (those the vision model trained on: its painted classes would be too good there); their
token files train every fold. With `--labeller pixels` no word model is trained: the same
documents and table, for the pixels + rules row.

Writes `<output>/evaluation/` as a plain run does (fields.csv, summary.json: micro over all
scored documents) plus `leave-out.json` (the folds, per publisher and per source the field
figures) and `folds/<n>/word-model`, and prints one table: per publisher and micro.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sciencebeam_gym.document.jats import publisher_group
from sciencebeam_gym.document.sources import safe_id
from sciencebeam_gym.field_evaluation.documents import SCORED, EvaluationTask, find_tasks
from sciencebeam_gym.field_evaluation.fields import FIELDS
from sciencebeam_gym.field_evaluation.measures import SOFT
from sciencebeam_gym.field_evaluation.scoring import field_summary
from sciencebeam_gym.storage import fs

LEAVE_OUT_CHOICES = ("publisher",)
LEAVE_OUT_NAME = "leave-out.json"
FOLDS_FOLDER = "folds"
DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class GroupedTask:
    """A document to score, its publisher group and the source it came from."""

    task: EvaluationTask
    group: str
    source: str


def source_name(source: str) -> str:
    """A source's name as generate-data names its default group."""
    return safe_id(fs.basename(source.rstrip("/")).split(".")[0])


def grouped_tasks(sources: Sequence[str]) -> list[GroupedTask]:
    """Every document of the sources with its publisher group (its XML's publisher; the
    source's name when the XML names none or cannot be read)."""
    found = []
    for source in sources:
        for task in find_tasks(source):
            group = None
            if task.xml:
                try:
                    group = publisher_group(fs.read_bytes(task.xml))
                except OSError:
                    group = None
            found.append(GroupedTask(task, group or source_name(source), source))
    return found


def family(group: str) -> str:
    """The publisher family of a group: its name's first word. The imprints of one publisher
    (springer-berlin-heidelberg, springer-netherlands; nature-group, nature-group-uk) share a
    layout, so they are left out together."""
    return group.split("-")[0]


def group_k_fold(sizes: dict[str, int], folds: int) -> list[list[str]]:
    """Groups split into `folds` folds of whole families (`family`): the largest family first,
    each into the fold with the fewest documents so far (the first such fold on a tie); fewer
    folds when there are fewer families. Each fold's groups sorted."""
    families: dict[str, list[str]] = {}
    for group in sizes:
        families.setdefault(family(group), []).append(group)
    family_sizes = {name: sum(sizes[g] for g in groups) for name, groups in families.items()}
    count = max(1, min(folds, len(families)))
    members: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for name in sorted(family_sizes, key=lambda f: (-family_sizes[f], f)):
        lightest = loads.index(min(loads))
        members[lightest].extend(families[name])
        loads[lightest] += family_sizes[name]
    return [sorted(fold) for fold in members]


def word_model_arguments(options, excluded: list[str], output: str, cache: str) -> list[str]:
    """The word model training command of a fold (words.train's flags); the folds share one
    cache of painted class maps."""
    arguments = [item for value in options.tokens for item in ("--tokens", value)]
    arguments += ["--output", output, "--exclude_groups", ",".join(excluded)]
    if options.no_painted:
        arguments.append("--no_painted")
    else:
        arguments += ["--saved_model", options.model]
        arguments += ["--painted_cache", options.painted_cache or cache]
    if options.word_iterations:
        arguments += ["--max_iterations", str(options.word_iterations)]
    return arguments


def trained_word_model(options, excluded: list[str], root: str, number: int, log=print) -> str:
    """A fold's word model: trained unless its folder holds one made by the same command (a
    rerun after an interruption goes on where it stopped)."""
    from sciencebeam_gym.words.model import INFO_FILE
    from sciencebeam_gym.words.train import run as train

    path = fs.join(root, str(number), "word-model")
    cache = fs.join(root, "painted-cache")
    arguments = word_model_arguments(options, excluded, path, cache)
    info_path = fs.join(path, INFO_FILE)
    if fs.exists(info_path) and json.loads(fs.read_bytes(info_path)).get("arguments") == arguments:
        log(f"leave-out: {path} is already trained without {', '.join(excluded)}")
        return path
    log(f"leave-out: training {path} without {', '.join(excluded)}")
    train(arguments, log=log)
    return path


def run_leave_out(options, settings, workers: int, log=print) -> tuple[list, dict]:
    """Score every fold's documents with the word model trained without the fold's publishers
    (or with the pixels alone); the results of all documents and the leave-out summary."""
    from sciencebeam_gym.field_evaluation.local import run_local

    tasks = grouped_tasks(options.source)
    excluded = {g for g in options.exclude_groups.split(",") if g}
    scored = [t for t in tasks if t.group not in excluded]
    sizes: dict[str, int] = {}
    for item in scored:
        sizes[item.group] = sizes.get(item.group, 0) + 1
    folds = group_k_fold(sizes, options.folds)
    root = fs.join(settings.evaluation_path, FOLDS_FOLDER)
    results, fold_rows = [], []
    for number, groups in enumerate(folds, start=1):
        members = [t for t in scored if t.group in groups]
        fold_settings = settings
        row = {"fold": number, "groups": groups, "documents": len(members)}
        if options.labeller != "pixels":
            word_model = trained_word_model(options, groups, root, number, log)
            fold_settings = replace(settings, labeller="words", word_model=word_model)
            row["word_model"] = word_model
        log(
            f"leave-out: fold {number}/{len(folds)}: {len(members)} documents of {', '.join(groups)}"
        )
        results += run_local([t.task for t in members], fold_settings, workers)
        fold_rows.append(row)
    return results, leave_out_summary(scored, results, fold_rows, sorted(excluded))


def leave_out_summary(tasks: list[GroupedTask], results: list, folds: list[dict], excluded) -> dict:
    """Field figures per publisher, per source and over all scored documents."""
    by_id = {r.doc_id: r for r in results}
    groups: dict[str, list] = {}
    sources: dict[str, list] = {}
    for item in tasks:
        result = by_id.get(item.task.doc_id)
        if result is not None and result.status == SCORED:
            groups.setdefault(item.group, []).append(result.scores)
            sources.setdefault(item.source, []).append(result.scores)
    micro = [scores for rows in groups.values() for scores in rows]
    return {
        "folds": folds,
        "excluded_groups": excluded,
        "documents": {g: len(rows) for g, rows in sorted(groups.items())},
        "groups": {g: field_summary(rows) for g, rows in sorted(groups.items())},
        "sources": {s: field_summary(rows) for s, rows in sorted(sources.items())},
        "micro": field_summary(micro),
        "scored": len(micro),
    }


def _cell(summary: dict, field: str) -> str:
    entry = summary.get(field, {}).get(SOFT.name)
    return "-" if not entry or entry["f1"] is None else f"{100 * entry['f1']:.1f}"


def format_leave_out(summary: dict) -> str:
    """One table: soft F1 (%) per field, a row per publisher, per source, and micro over all."""
    names = [f[:12] for f in FIELDS]
    header = f"{'group':<28}{'docs':>5}" + "".join(f"{n:>13}" for n in names)
    lines = ["soft F1 (%), each publisher scored by the word model of the fold without it", header]
    lines.append("-" * len(header))
    rows = [(g, summary["documents"][g], s) for g, s in summary["groups"].items()]
    rows.append(("micro (all scored)", summary["scored"], summary["micro"]))
    for name, count, figures in rows:
        lines.append(
            f"{name[:27]:<28}{count:>5}" + "".join(f"{_cell(figures, f):>13}" for f in FIELDS)
        )
    for source, figures in summary["sources"].items():
        label = f"micro: {fs.basename(source.rstrip('/'))}"
        lines.append(
            f"{label[:27]:<28}{'':>5}" + "".join(f"{_cell(figures, f):>13}" for f in FIELDS)
        )
    return "\n".join(lines)


def write_leave_out(evaluation_path: str, summary: dict) -> None:
    fs.write_text(fs.join(evaluation_path, LEAVE_OUT_NAME), json.dumps(summary, indent=1) + "\n")
