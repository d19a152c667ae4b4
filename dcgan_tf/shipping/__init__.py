"""Shipping a trained run as a preset (`dcgan_tf.presets`): the maintainer's
side of the presets, run by `benchmarks/ship_preset.py`.

`ship` (in `ship`) copies a run's generator into a preset folder, measures
it and writes its model card; `cards` makes the card (the training command,
the data's licence, the Markdown). Apart from `dcgan_tf.presets`, which
only finds presets and so imports nothing of the project (`rundir` stands on
it), because shipping measures with `quality` and draws with `sampling`.
"""
