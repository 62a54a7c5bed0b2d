"""A PDF and its JATS as every stage reads them: the floor under generate, extract, the field
evaluation, the word labeller and the service (it imports no stage).

  pdf          open PDF bytes (also gzip), render pages at a dpi within a pixel budget, reasons
  text_layer   the text layer: glyphs with boxes, words with their font, lines
  words        a page's words laid out: box, line, block, font, size, raised runs
  text         normalise and tokenise text alike for the page and the XML
  jats         parse JATS safely, pull out the fields an XML mapping names, the publisher
  xml_mapping  `xml-mapping.conf`: which XML elements give which class
  sources      PDF + XML pairs in a folder or a file list; the PDFs of a folder or a list
  pages        --pages: which pages of a document a run reads
  errors       the error a document is skipped with
"""
