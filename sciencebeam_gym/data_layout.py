"""The data folder every stage shares, named once.

    $DATA_PATH/<split>/<group>/<doc_id>/<doc_id>-page<N>.png        page image (RGB)
    $DATA_PATH/<split>/<group>/<doc_id>/<doc_id>-page<N>.annot.png  label image (grey k = class k)
    $PREPROC_PATH/<split>/*.tfrecord.gz                             records of the split

The sample corpus and generate-data write it, preprocess reads it split by split, prediction
refuses to write into it. The shell scripts name the same folders in their paths
($PREPROC_PATH/train, $PREPROC_PATH/test): tests/test_facts.py checks they are these.
"""

from __future__ import annotations

TRAIN = "train"
TEST = "test"
SPLITS = (TRAIN, TEST)
# Every page of every document of a split, below the split's folder.
PAGES_GLOB = "*/*/*-page[0-9]*.png"
