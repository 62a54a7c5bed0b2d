"""The class labels the code names, each written once: labels of the bundled color_map.conf.

A colour map may hold other classes, and the class list, keys and colours come from the colour
map alone (`color_map`). Code that treats a class by name (the sample corpus painting it, the
extraction assembling a field from it, the field evaluation reading the publisher's XML for it)
takes the name from here; tests/test_color_map.py checks each is a label of the bundled map.
"""

from __future__ import annotations

ABSTRACT = "abstract"
AUTHOR = "author"
AUTHOR_AFF = "author_aff"
COPYRIGHT_STATEMENT = "copyright_statement"
DOI = "doi"
JOURNAL = "journal"
KEYWORDS = "keywords"
KEYWORDS_TITLE = "keywords_title"
MANUSCRIPT_TITLE = "manuscript_title"
MANUSCRIPT_TYPE = "manuscript_type"
PAGE_NO = "page_no"
SECTION_PARAGRAPH = "section_paragraph"
SECTION_TITLE = "section_title"
TABLE_TITLE = "table_title"
TABLE_BODY_CELL = "table_body_cell"
TABLE_DESCRIPTION = "table_description"
TABLE_FOOTER = "table_footer"
TABLE_HEADER_CELL = "table_header_cell"
FIGURE_DESCRIPTION = "figure_description"
FIGURE_TITLE = "figure_title"
ACKNOWLEDGEMENT = "acknowledgement"
REFERENCE = "reference"
REFERENCE_LIST_TITLE = "reference_list_title"
MAIN_PARAGRAPH = "main_paragraph"

# Every name above, in the bundled colour map's order.
ALL = (
    ABSTRACT,
    AUTHOR,
    AUTHOR_AFF,
    COPYRIGHT_STATEMENT,
    DOI,
    JOURNAL,
    KEYWORDS,
    KEYWORDS_TITLE,
    MANUSCRIPT_TITLE,
    MANUSCRIPT_TYPE,
    PAGE_NO,
    SECTION_PARAGRAPH,
    SECTION_TITLE,
    TABLE_TITLE,
    TABLE_BODY_CELL,
    TABLE_DESCRIPTION,
    TABLE_FOOTER,
    TABLE_HEADER_CELL,
    FIGURE_DESCRIPTION,
    FIGURE_TITLE,
    ACKNOWLEDGEMENT,
    REFERENCE,
    REFERENCE_LIST_TITLE,
    MAIN_PARAGRAPH,
)
