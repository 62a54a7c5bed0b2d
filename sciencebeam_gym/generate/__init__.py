"""Generate training data from PDF + JATS XML pairs: the "Generate PNG" stage.

For each article, the chosen pages are rendered to PNG and the XML's fields (title, authors,
abstract, paragraphs, ...) are found on the page text and painted into a label image whose grey
value k is class k of `color_map.conf`. Run it with::

    ./generate-data.sh --source /path/to/pdf-and-xml-folder

Modules, in the order the data flows:
  sources   find PDF + XML pairs (folder or file list), the train/test split
  pdf       open a PDF, render a page, extract its glyphs, words and lines
  jats      parse the XML safely and pull out the fields named by the mapping file
  mapping   read `xml-mapping.conf` (which XML elements give which class)
  text      normalise and tokenise text the same way for page and XML
  align     find each field's text on the page (fuzzy, in reading order)
  paint     the label image and the coloured overlay
  report    token coverage per field, the run's CSV/JSON report and summary
  pipeline  the Beam pipeline and CLI composing the above
  contact_sheet, evaluate   visual check and pixel F1 against ground-truth labels
"""
