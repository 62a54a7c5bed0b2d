"""The word labeller in the extraction: the vision model paints each page, the word model (a CRF
over the page's words, `sciencebeam_gym.words`) labels its words, reading the painted classes.

    labeller = choose_labeller(saved_model=".models/pix2pix/v4-default/export")  # words if a
    # word model lies beside the export (…/v4-default/word-model), else the painted pixels

Which labeller (`LABELLERS`): `words` needs a word model (an error names where it was looked
for); `pixels` votes each word's class from the painted map alone (layout.vote_word_labels);
`auto` takes the word model when there is one. Pages without a text layer keep the pixels'
regions either way; a page of more than `MAX_PAGE_TOKENS` words has its first ones labelled by
the word model and the rest by the pixels, with a warning.
"""

from __future__ import annotations

from sciencebeam_gym import class_labels
from sciencebeam_gym.color_map import UNKNOWN_LABEL
from sciencebeam_gym.document.tokens import MAX_PAGE_TOKENS
from sciencebeam_gym.document.words import PageWord, class_shares
from sciencebeam_gym.serving.labeller import load_labeller
from sciencebeam_gym.storage import fs
from sciencebeam_gym.words.features import PageInfo, page_features, reading_sequence
from sciencebeam_gym.words.model import (
    INFO_FILE,
    WordModel,
    WordModelError,
    beside_export,
    load_word_model,
    model_labels,
    split_label,
)
from sciencebeam_gym.words.painted import labels_of

AUTO, WORDS, PIXELS = "auto", "words", "pixels"
LABELLERS = (AUTO, WORDS, PIXELS)


class WordLabeller:
    """A pixel labeller's class maps, then the word model's labels on each page's words."""

    def __init__(self, pixels, word_model: WordModel):
        painted = labels_of(pixels)
        if word_model.painted and word_model.painted_labels != painted:
            raise WordModelError(
                f"{word_model.path}: trained on the classes of another vision model "
                f"({', '.join(word_model.painted_labels)}) than {pixels.source} paints "
                f"({', '.join(painted)}); train it again with this export"
            )
        self.pixels = pixels
        self.word_model = word_model
        self.dpi = pixels.dpi
        self.labels_by_value = pixels.labels_by_value
        self.source = f"{pixels.source} + {word_model.path}"
        self._painted_labels = painted

    def label_pages(self, images):
        return self.pixels.label_pages(images)

    def label_words(self, words: list[PageWord], class_map, page: PageInfo) -> list[str]:
        """Set each word's label: the word model's, a text block's majority class for the
        unlabelled words of the block (`fill_blocks`), the painted class under the words still
        unlabelled (on a layout it never saw the word model says unknown where it is unsure,
        and the pixels often know); the warnings of the page."""
        from sciencebeam_gym.extract.layout import pixel_votes, vote_word_labels

        size = (page.width, page.height)
        shown = words[:MAX_PAGE_TOKENS]
        shown = [shown[i] for i in reading_sequence(shown)]
        shares = None
        if self.word_model.painted:
            shares = class_shares(shown, class_map, size, len(self._painted_labels))
        features = page_features(shown, page, shares, self._painted_labels)
        for word, label in zip(shown, self.word_model.label_page(features), strict=True):
            label, word.start = split_label(label)
            word.label = "" if label == UNKNOWN_LABEL else label
        votes = pixel_votes(shown, class_map, size, self.labels_by_value)
        for word, vote in zip(shown, votes, strict=True):  # the title: the pixels' first
            if vote in FROM_PIXELS_FIRST:
                word.label = vote
        fill_blocks(shown)
        # what the word model leaves unknown, the painted pixels decide (rule 2 of the layout),
        # but for references, which the pixels paint over declarations and author details
        for word, vote in zip(shown, votes, strict=True):
            if not word.label and vote not in NOT_FROM_PIXELS:
                word.label = vote
        if len(words) <= MAX_PAGE_TOKENS:
            return []
        vote_word_labels(words[MAX_PAGE_TOKENS:], class_map, size, self.labels_by_value)
        return [
            f"page {page.number}: {len(words)} words; the word model labelled the first "
            f"{MAX_PAGE_TOKENS}, the painted pixels the rest"
        ]


# Classes the pixels give a word whatever the word model says: a title is the page's largest
# text, which the picture sees, where the word model, on a layout it never saw, often takes a
# title's words for another class (leave-publisher-out, first two pages: title 89.6 by the word
# model, 97.1 by the pixels).
FROM_PIXELS_FIRST = frozenset({class_labels.MANUSCRIPT_TITLE})
# Classes the pixels may not give a word the word model left unknown: they paint the last
# pages' declarations and author details as references (references 60.7 -> 54.9 when they may).
NOT_FROM_PIXELS = frozenset({class_labels.REFERENCE})
# Share of a text block's words one class must hold for its unlabelled words to take it.
BLOCK_MAJORITY = 0.5


def fill_blocks(words: list[PageWord]) -> None:
    """Unlabelled words take the class of their text block (document.words: lines set close
    together in one size) when that class holds most of its words: a title line the word model
    left out of the title, an abstract line it left unknown."""
    blocks: dict[int, list[PageWord]] = {}
    for word in words:
        blocks.setdefault(word.block, []).append(word)
    for members in blocks.values():
        counts: dict[str, int] = {}
        for word in members:
            if word.label:
                counts[word.label] = counts.get(word.label, 0) + 1
        if not counts:
            continue
        label, count = max(counts.items(), key=lambda item: item[1])
        if count >= BLOCK_MAJORITY * len(members):
            for word in members:
                if not word.label:
                    word.label = label


def word_model_path(saved_model: str = "", export_path: str = "", model_path: str = "") -> str:
    """Where the word model of the chosen vision model lies: beside its export or training
    folder (`word-model/` in the same run folder)."""
    return beside_export(saved_model or export_path or model_path)


def load_model(path: str, dpi: float | None = None):
    """The labeller extract.sh uses for a model path (an export or a training folder): with the
    word model beside it when there is one (serve.sh's workers load this)."""
    from sciencebeam_gym.extract.model import model_flags

    return choose_labeller(**model_flags(path), dpi=dpi)


def choose_labeller(
    saved_model: str = "",
    export_path: str = "",
    model_path: str = "",
    dpi: float | None = None,
    labeller: str = AUTO,
    word_model: str = "",
):
    """The extraction's labeller: the vision model alone (`pixels`) or with its word model
    (`words`; `auto`: when one is found). ValueError naming the path or flag that is wrong."""
    if labeller not in LABELLERS:
        raise ValueError(f"--labeller {labeller}: choose one of {', '.join(LABELLERS)}")
    pixels = load_labeller(saved_model, export_path, model_path, dpi)
    if labeller == PIXELS:
        return pixels
    path = word_model or word_model_path(saved_model, export_path, model_path)
    if labeller == AUTO and not word_model and not fs.exists(fs.join(path, INFO_FILE)):
        return pixels
    return WordLabeller(pixels, load_word_model(path, model_labels(labels_of(pixels))))
