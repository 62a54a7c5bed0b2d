"""The export's metadata file, named and versioned here so it is read without TensorFlow.

`metadata.json` beside a SavedModel (written last by `export`, see `inference.ModelInfo`) holds
the classes, the model's input size, the training step and `dpi`, the resolution the training
pages were rendered at, which extraction and prediction render PDF pages at.
"""

from __future__ import annotations

METADATA_FILENAME = "metadata.json"
METADATA_FORMAT = "sciencebeam-gym-export"
# Version 1 gained `dpi` without a new number: older toolkits ignore the key, and an export
# without it was rendered at the one default (document.pdf.DEFAULT_DPI).
METADATA_VERSION = 1
