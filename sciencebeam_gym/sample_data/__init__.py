"""The embedded sample corpus: synthetic first pages of scientific articles.

Modules, in the order a page is made: `text` (words, names, places), `article` (one article's
content), `design` (a random journal style and the page composition), `layout` (lines, blocks,
columns, label regions), `render` (page and label PNGs), `pdf` and `jats` (the same page as a PDF
and its JATS XML), `corpus` (one document's files), `cli` (the command).
"""
