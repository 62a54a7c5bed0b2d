"""A page's token file from its alignment: each word with the class of the field that claims it
(`document.tokens` holds the schema)."""

from __future__ import annotations

from sciencebeam_gym.document.text_layer import PageText
from sciencebeam_gym.document.tokens import NO_INSTANCE, PageTokens, capped
from sciencebeam_gym.document.words import page_words
from sciencebeam_gym.generate.align import FieldMatch


def aligned_tokens(
    text: PageText, matches: list[FieldMatch], page_number: int, pages: int, rotation: int = 0
) -> PageTokens:
    """The page's words (document.words, in text-layer order) labelled by the field matches:
    a word takes the class and the instance (the match's index: one JATS element) of the last
    match whose word spans hold it, as the label image is painted; the others stay unknown."""
    words = page_words(text)
    instances = [NO_INSTANCE] * len(words)
    for index, match in enumerate(matches):
        for first, last in match.word_spans:
            for position in range(first, last + 1):
                words[position].label = match.field.label
                instances[position] = index
    tokens = PageTokens("", page_number, text.width, text.height, words, instances, pages=pages)
    tokens.rotation = rotation
    return capped(tokens)
