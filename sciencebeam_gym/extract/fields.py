"""From labelled blocks in reading order to the article's fields.

Each field has one function, and its docstring says the rule. Blocks arrive as a list of pages,
each page's blocks in reading order (`layout.page_blocks`).
"""

from __future__ import annotations

import re

from sciencebeam_gym import class_labels as labels
from sciencebeam_gym.document.words import PageWord
from sciencebeam_gym.extract.article import Affiliation, Author, ExtractedArticle, Section
from sciencebeam_gym.extract.layout import Block, Line
from sciencebeam_gym.words import lexicon

# The classes each field is assembled from.
TITLE = labels.MANUSCRIPT_TITLE
AUTHOR = labels.AUTHOR
AFFILIATION = labels.AUTHOR_AFF
ABSTRACT = labels.ABSTRACT
KEYWORDS = labels.KEYWORDS
SECTION_TITLE = labels.SECTION_TITLE
PARAGRAPHS = (labels.SECTION_PARAGRAPH, labels.MAIN_PARAGRAPH)
REFERENCE = labels.REFERENCE

SAME_FONT_RATIO = 1.15
ABSTRACT_PAGES = 2
# Title lines smaller than this share of the largest title line are not the title.
TITLE_FONT_SHARE = 0.8
FOOTNOTE_SIGNS = "*\u2020\u2021\u00a7\u00b6#\u2016\u2709\u24b8\u2217"
NAME_SEPARATORS = re.compile(r"\s*(?:[,;\u00b7\u2022|]|\band\b|&)\s*", re.IGNORECASE)
SURNAME_PARTICLES = frozenset(
    [
        "van",
        "von",
        "de",
        "da",
        "del",
        "della",
        "der",
        "den",
        "di",
        "du",
        "dos",
        "das",
        "le",
        "la",
        "ten",
        "ter",
        "bin",
        "ibn",
        "al",
        "el",
    ]
)
# Words that are never part of a name: links, e-mail addresses, brackets.
NOT_NAME_WORD = re.compile(r"://|www\.|@|[\[\]{}<>/]")
NAME_SUFFIXES = frozenset(["jr", "sr", "ii", "iii", "iv"])
HEADING_WORDS = frozenset(["abstract", "summary", "background", "keywords", "introduction"])
AFFILIATION_LABEL = re.compile(r"^\(?([0-9]{1,2}|[a-z]|[\*\u2020\u2021\u00a7\u00b6#]+)[\).]?$")
INLINE_LABEL = re.compile(r"^\(?([0-9]{1,2})[.)]$")
# A plain number after a sentence's end inside a line of affiliations: "... Norway. 2 School".
PLAIN_LABEL = re.compile(r"^([0-9]{1,2})$")
GLUED_LABEL = re.compile(r"^([0-9]{1,2})(?=[A-Z])")
ABSTRACT_HEADING = re.compile(r"^(abstract|summary)\s*[:.\u2014\u2013-]?\s*", re.IGNORECASE)
KEYWORDS_HEADING = re.compile(r"^key\s*-?\s*words?\s*[:.\u2014\u2013-]?\s*", re.IGNORECASE)
KEYWORD_SEPARATORS = re.compile(r"\s*[,;\u00b7\u2022]\s*")
# Where an author's contact details begin: they follow an affiliation on many pages and are
# painted with it, but are no part of it ("..., Italy; E-Mails: a@b.it", "Correspondence ...").
CONTACT_START = re.compile(
    r"(?:^|[\s;,.*])(?:\*\s*)?(?:correspondence\b|corresponding author|e-?mails?\b|tel\.|"
    r"phone\b|fax\b|authors? to whom)|\S+@\S+",
    re.IGNORECASE,
)
# A block of contact details: it starts like one or holds an e-mail address (an abstract may
# speak of a "correspondence" mid-sentence, never start with it).
CONTACT_BLOCK = re.compile(
    r"^\W*(?:correspondence|corresponding author|e-?mails?\b|authors? to whom)|\S+@\S+\.\w",
    re.IGNORECASE,
)
REFERENCE_LABEL = re.compile(r"^(\[\d{1,4}\]|\d{1,4}[.)]?)$")
# A section title's printed number ("2.1", "3.", "IV.", "B."): the JATS keeps it in <label>.
SECTION_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,5}\.|[A-H]\.)\s+(?=\S)")
SENTENCE_END = (".", "!", "?", ":")
# Paragraph blocks that may finish an abstract's last sentence.
SENTENCE_BLOCKS = 2
# A line starting this many line heights right of its block's left edge starts a paragraph.
INDENT_HEIGHTS = 0.8


def of_label(pages: list[list[Block]], label: str) -> list[Block]:
    return [b for blocks in pages for b in blocks if b.label == label]


def first_page_of(pages: list[list[Block]], label: str) -> list[Block]:
    """The blocks of a label on the first page that has any (front matter sits there)."""
    for blocks in pages:
        found = [b for b in blocks if b.label == label]
        if found:
            return found
    return []


def extract_title(pages: list[list[Block]]) -> str:
    """The title: the title lines of its first page, without lines much smaller than the largest
    (a stray running head painted as title)."""
    lines = [line for b in first_page_of(pages, TITLE) for line in b.lines]
    if not lines:
        return ""
    largest = max(line.height for line in lines)
    return " ".join(line.text for line in lines if line.height >= TITLE_FONT_SHARE * largest)


def extract_authors(pages: list[list[Block]]) -> list[Author]:
    """Names from the author blocks: raised marks, separators (, ; and &) and footnote signs
    cut the list, not line or block ends (a name may be broken over two lines); digits glued
    to a name (marks printed unraised) are dropped."""
    names: list[str] = []
    current: list[str] = []
    for block in first_page_of(pages, AUTHOR):
        for word in block.words:
            for text, raised in word.runs:
                if raised:
                    names.append(" ".join(current))
                    current = []
                    continue
                pieces = NAME_SEPARATORS.split(text)
                for index, piece in enumerate(pieces):
                    if index:
                        names.append(" ".join(current))
                        current = []
                    piece = _clean_name_piece(piece)
                    if piece:
                        current.append(piece)
    names.append(" ".join(current))
    return [split_name(name) for name in names if _is_name(name)]


def _clean_name_piece(text: str) -> str:
    """A name's word without footnote signs and glued marks; nothing for a word no name has
    (`NOT_NAME_WORD`: a link or bracket of a citation line painted with the authors)."""
    if NOT_NAME_WORD.search(text):
        return ""
    text = text.strip(FOOTNOTE_SIGNS + " ")
    return re.sub(r"(?<=[^\W\d])\d+$", "", text).strip(FOOTNOTE_SIGNS)


def _is_name(text: str) -> bool:
    """Two letters or more, a word with a capital initial ("provided" is no name), and not a
    heading painted with the authors ("Abstract")."""
    return (
        sum(c.isalpha() for c in text) >= 2
        and any(w[:1].isupper() for w in text.split())
        and text.strip(" :.").lower() not in HEADING_WORDS
    )


def split_name(text: str) -> Author:
    """Given names and surname: the last word is the surname, with the particles before it
    (van, de, ...) and without a generational suffix after it (Jr., III), which stays in the
    printed name only; a single word is a surname alone."""
    words = text.split()
    if len(words) > 2 and words[-1].lower().rstrip(".") in NAME_SUFFIXES:
        words = words[:-1]
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in SURNAME_PARTICLES:
        start -= 1
    return Author(text=text, given_names=" ".join(words[:start]), surname=" ".join(words[start:]))


def affiliation_blocks(pages: list[list[Block]]) -> list[Block]:
    """The affiliation blocks of the first page that has any, and of later pages those naming
    an institution or a country (the "Author details" at an article's end list all of them,
    where the first page shows one)."""
    blocks = first_page_of(pages, AFFILIATION)
    if not blocks:
        return []
    first = blocks[0].page
    later = [b for b in of_label(pages, AFFILIATION) if b.page > first and _names_a_place(b)]
    return blocks + later


def _names_a_place(block: Block) -> bool:
    return any(_line_names_a_place(line) for line in block.lines)


def extract_affiliations(pages: list[list[Block]]) -> list[Affiliation]:
    """Affiliations from their blocks (`affiliation_blocks`): a raised mark, a label word (1,
    a, *) at the start of a line, a number glued to a capital ("1Department") or a numbered
    label after a comma or semicolon ("..., 2. Center") starts one; else one per block. One
    printed twice (on the first page and at the end) is kept once."""
    found: list[Affiliation] = []
    for block in affiliation_blocks(pages):
        current: Affiliation | None = None
        for line in block.lines:
            previous = ""
            for position, word in enumerate(line.words):
                label, rest = _affiliation_label(word, position == 0, previous)
                previous = word.text
                if label is not None or current is None:
                    current = Affiliation(text="", label=label or "")
                    found.append(current)
                if rest:
                    current.text = f"{current.text} {rest}".strip()
    return _distinct([a for a in (_tidy_affiliation(a) for a in found if a.text) if a.text])


# Two affiliations whose letters and digits agree this much (rapidfuzz ratio) are one.
SAME_AFFILIATION = 90


def _distinct(affiliations: list[Affiliation]) -> list[Affiliation]:
    """The affiliations without those repeating an earlier one."""
    from rapidfuzz import fuzz

    kept: list[Affiliation] = []
    keys: list[str] = []
    for affiliation in affiliations:
        key = "".join(c for c in affiliation.text.lower() if c.isalnum())
        if not any(fuzz.ratio(key, other) >= SAME_AFFILIATION for other in keys):
            kept.append(affiliation)
            keys.append(key)
    return kept


def _affiliation_label(word: PageWord, line_start: bool, previous: str) -> tuple[str | None, str]:
    if word.runs and word.runs[0][1]:
        label = word.runs[0][0].strip(",; ")
        return label, "".join(text for text, _raised in word.runs[1:])
    after = previous.endswith((",", ";")) or (previous.endswith(".") and word.text.isdigit())
    inline = INLINE_LABEL.match(word.text) or PLAIN_LABEL.match(word.text) if after else None
    if inline:
        return inline.group(1), ""
    if line_start and AFFILIATION_LABEL.match(word.text):
        return AFFILIATION_LABEL.match(word.text).group(1), ""
    glued = GLUED_LABEL.match(word.text) if line_start else None
    if glued:
        return glued.group(1), word.text[glued.end() :]
    return None, word.text


def _tidy_affiliation(affiliation: Affiliation) -> Affiliation:
    """Without the contact details that follow it (`CONTACT_START`) and edge punctuation."""
    contact = CONTACT_START.search(affiliation.text)
    text = affiliation.text[: contact.start()] if contact else affiliation.text
    affiliation.text = text.strip(" ,;*")
    return affiliation


def main_font_blocks(blocks: list[Block]) -> list[Block]:
    """The blocks set in the font size of the longest one (line heights within
    `SAME_FONT_RATIO`): a licence line or a caption painted like the abstract is set smaller."""
    if not blocks:
        return []
    main = max(blocks, key=lambda b: len(b.text)).height
    return [b for b in blocks if max(b.height, main) <= SAME_FONT_RATIO * min(b.height, main)]


def abstract_blocks(pages: list[list[Block]]) -> list[Block]:
    """The abstract's blocks: from the first page with one, up to the first section title
    after it (body text painted like the abstract further on is not the abstract), at most
    `ABSTRACT_PAGES` pages; blocks of contact details (an e-mail address, "Correspondence")
    painted like it are left out. When the last one stops mid-sentence, the paragraph blocks
    right after it finish the sentence (the abstract's next column taken for body text)."""
    found: list[Block] = []
    first_page = None
    ordered = [b for blocks in pages for b in blocks]
    last = -1
    for index, block in enumerate(ordered):
        if found and (block.label == SECTION_TITLE or block.page >= first_page + ABSTRACT_PAGES):
            break
        if block.label == ABSTRACT and not CONTACT_BLOCK.search(block.text):
            first_page = block.page if first_page is None else first_page
            found.append(block)
            last = index
    for block in ordered[last + 1 : last + 1 + SENTENCE_BLOCKS] if found else []:
        if found[-1].text.rstrip().endswith(SENTENCE_END) or block.label not in PARAGRAPHS:
            break
        found.append(block)
    return found


def extract_abstract(pages: list[list[Block]]) -> str:
    """The abstract blocks (`abstract_blocks`) in the abstract's font size (`main_font_blocks`)
    in reading order, without an "Abstract" heading."""
    text = " ".join(b.text for b in main_font_blocks(abstract_blocks(pages)))
    return ABSTRACT_HEADING.sub("", text, count=1).strip()


def extract_keywords(pages: list[list[Block]]) -> list[str]:
    """Keywords: their blocks' text without a "Keywords" heading, split on , ; and bullets."""
    text = " ".join(b.text for b in first_page_of(pages, KEYWORDS))
    text = KEYWORDS_HEADING.sub("", text, count=1)
    return [k.strip(" .") for k in KEYWORD_SEPARATORS.split(text) if k.strip(" .")]


def extract_sections(pages: list[list[Block]]) -> list[Section]:
    """Sections in reading order: a section title starts one (without its printed number,
    which the JATS keeps apart); paragraph blocks are cut into paragraphs at indented lines, and a block continues the previous paragraph when that one
    did not end a sentence (a paragraph broken by a column or a page)."""
    sections: list[Section] = []
    for block in (b for blocks in pages for b in blocks):
        if block.label == SECTION_TITLE:
            sections.append(Section(title=SECTION_NUMBER.sub("", block.text, count=1)))
        elif block.label in PARAGRAPHS:
            if not sections:
                sections.append(Section())
            _add_paragraphs(sections[-1], split_paragraphs(block))
    return sections


def _add_paragraphs(section: Section, paragraphs: list[str]) -> None:
    if paragraphs and section.paragraphs and not section.paragraphs[-1].endswith(SENTENCE_END):
        section.paragraphs[-1] += " " + paragraphs.pop(0)
    section.paragraphs.extend(paragraphs)


def split_paragraphs(block: Block) -> list[str]:
    """A paragraph block's text cut where a line is indented from the block's left edge."""
    left = block.box[0]
    paragraphs: list[list[Line]] = []
    for line in block.lines:
        indented = line.box[0] - left > INDENT_HEIGHTS * line.height
        if not paragraphs or indented:
            paragraphs.append([])
        paragraphs[-1].append(line)
    return [" ".join(line.text for line in lines) for lines in paragraphs]


def extract_references(pages: list[list[Block]]) -> list[str]:
    """References: cut at lines that start with a label ([1], 1.), else at lines that stick out
    left of the block (hanging indents), else one per block; labels are dropped."""
    references: list[str] = []
    for block in of_label(pages, REFERENCE):
        references.extend(_split_references(block))
    return [r for r in references if r]


def _split_references(block: Block) -> list[str]:
    labelled = [REFERENCE_LABEL.match(line.words[0].text) is not None for line in block.lines]
    if any(labelled):
        starts = labelled
    else:
        left = block.box[0]
        starts = [line.box[0] - left < 0.5 * line.height for line in block.lines]
        if all(starts):
            starts = [False] * len(starts)
    references: list[list[str]] = []
    for line, start in zip(block.lines, starts, strict=True):
        if start or not references:
            references.append([])
        words = line.words[1:] if start and any(labelled) else line.words
        references[-1].extend(w.text for w in words)
    return [" ".join(words) for words in references]


def authors_among_affiliations(pages: list[list[Block]]) -> None:
    """When no block is labelled author, the first affiliation block's first line, when it
    names no place (no institution or country word) but names people, is the author list: set
    just above the affiliations, with their marks, it is easily taken for one of them."""
    if of_label(pages, AUTHOR):
        return
    for blocks in pages:
        for index, block in enumerate(blocks):
            if block.label != AFFILIATION:
                continue
            first = block.lines[0]
            if _line_names_a_place(first) or not _is_name(first.text):
                return
            authors = Block(AUTHOR, block.page)
            authors.add(first)
            rest = Block(AFFILIATION, block.page)
            for line in block.lines[1:]:
                rest.add(line)
            blocks[index : index + 1] = [authors, rest] if rest.lines else [authors]
            return


def _line_names_a_place(line: Line) -> bool:
    # marks glued to the word ("1Department", a raised "a") are no part of it
    keys = {lexicon.key(word.plain or word.text).lstrip("0123456789") for word in line.words}
    return bool(keys & (lexicon.INSTITUTION_WORDS | lexicon.COUNTRY_WORDS))


# A year as references print it (1998, 2015a, (2020)).
YEAR = re.compile(r"\b(1[89]|20)\d\d[a-z]?\b")
# What only a reference has: a bracketed number opening it ("[23] R. Lee"), a title in quotes,
# "et al." (a reference whose year went to its next block is still a reference).
REFERENCE_MARK = re.compile(r"^\s*\[\d{1,3}\]|[\u201c\u201d\"]|\bet al\b")


def affiliations_among_references(pages: list[list[Block]]) -> None:
    """Reference blocks without a year and without a reference's marks (`REFERENCE_MARK`) that
    name an institution or a country are affiliations: the author details some publishers print at an article's end, among the
    references, look like a reference list to a reader of layouts. Such blocks in a row are
    joined into one, which their labels ("1", "2") cut into affiliations."""
    for blocks in pages:
        kept: list[Block] = []
        joined = False
        for block in blocks:
            moved = block.label == REFERENCE and not YEAR.search(block.text)
            moved = moved and not REFERENCE_MARK.search(block.text)
            moved = moved and _names_a_place(block)
            if moved and joined:
                for line in block.lines:
                    kept[-1].add(line)
                continue
            if moved:
                block.label = AFFILIATION
            kept.append(block)
            joined = moved
        blocks[:] = kept


def assemble_article(pages: list[list[Block]], source: str = "") -> ExtractedArticle:
    """Every field of the article from its pages' blocks."""
    authors_among_affiliations(pages)
    affiliations_among_references(pages)
    return ExtractedArticle(
        source=source,
        title=extract_title(pages),
        authors=extract_authors(pages),
        affiliations=extract_affiliations(pages),
        abstract=extract_abstract(pages),
        keywords=extract_keywords(pages),
        sections=extract_sections(pages),
        references=extract_references(pages),
        pages=len(pages),
    )
