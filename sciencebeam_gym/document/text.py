"""Text normalisation and tokenisation, shared by the page text and the XML fields.

Both sides are reduced to the same tokens so that layout differences do not matter: Unicode is
NFKC-normalised (ligatures such as "fi" become two letters), accents are dropped, case is folded,
and text is cut into runs of letters or runs of digits, so punctuation, superscript markers glued
to names ("Molnar1") and line-break hyphens ("Mother-to-" / "Child") do not break a match.
"""

from __future__ import annotations

import re
import unicodedata

_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+")
# Characters a PDF uses for a hyphen at a line break (the text layer may keep or mark them).
LINE_BREAK_HYPHENS = frozenset("-\u00ad\u2010\u2011\ufffe\x02")


def normalise(text: str) -> str:
    """Compatibility-normalised, accent-free, case-folded text."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", stripped).casefold()


def tokenise(text: str) -> list[str]:
    """Tokens of a text: runs of letters or of digits, normalised."""
    return _TOKEN_RE.findall(normalise(text))


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


# Words too common to place a field by themselves ("the end of the" is no reference).
STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "for", "from"),
        *("had", "has", "have", "in", "into", "is", "it", "its", "of", "on", "or", "our"),
        *("that", "the", "their", "these", "this", "those", "to", "was", "we", "were"),
        *("which", "with"),
    }
)
