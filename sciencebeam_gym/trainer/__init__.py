"""The trainer: TFRecords -> pix2pix checkpoints, TensorBoard events, evaluation metrics.

Modules: config (defaults, presets), data (tf.data), model + losses (pix2pix), metrics,
summaries, class_weights, distribute (strategy, precision), model_dir (load a trained model),
task (the training CLI), evaluate_checkpoint (the evaluation CLI, eval.sh), evaluation (the
scoring pass it and training share).
"""
