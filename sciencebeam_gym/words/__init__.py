"""The word labeller: a linear-chain CRF over each page's words in reading order.

  features   the named features of a page's words: one function at training and at extraction
  lexicon    the small word lists the features look words up in
  painted    the vision model's classes under each word (its class map of the page image)
  model      the CRF: trained, saved beside the vision model's export with its feature version,
             label set and the data it saw; loading refuses another feature version or label set
  train      ./train-word-model.sh: token files (GLOB[:WEIGHT] sources) -> a word model
  evaluate   word-level precision, recall and F1 per class of a model on token files

It reads the floor (document.tokens, document.words) and the vision model through serving; it
imports neither generate (which writes the token files) nor extract (which uses the model).
"""
