"""Generate training data from PDF + JATS XML pairs: the "Generate PNG" stage.

For each article, the chosen pages are rendered to PNG and the XML's fields (title, authors,
abstract, paragraphs, ...) are found on the page text and painted into a label image whose grey
value k is class k of `color_map.conf`. Run it with::

    ./generate-data.sh --source /path/to/pdf-and-xml-folder

Modules, in the order the data flows (the PDF, its text layer, the JATS fields, the XML mapping
and the source pairs are read through `sciencebeam_gym.document`):
  splits    the train/test split by document
  align     find each field's text on the page (fuzzy, in reading order)
  paint     the label image and the coloured overlay
  document  one document: pages rendered, fields aligned and painted, files written
  report    token coverage per field, the run's CSV/JSON report and summary
  pipeline  the Beam pipeline and CLI composing the above
  contact_sheet, evaluate   visual check and pixel F1 against ground-truth labels
"""
