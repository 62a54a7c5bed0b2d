"""Serving: a trained model as a SavedModel, and pages painted with it.

`export` (save-model.sh) saves the latest checkpoint as a SavedModel with `metadata.json`;
`inference` is the module saved there (resize, normalise, decode classes); `models` loads an
export or a checkpoint to predict with; `predict` (predict.sh) is the command line over
`pages` (inputs and output names), `outputs` (files written per page) and `regions` (boxes).
Serving reads the model directory and the data contracts, never the training loop.
"""
