"""The representation probe of Radford et al. (2015, §5): a linear classifier
on a trained discriminator's features, against raw pixels, the same D
untrained and the same architecture trained on the labels alone.

- `discriminator`: loading D from a run directory or a `.keras` file;
- `features`: each block max-pooled to 4x4 and concatenated, batch-norm
  statistics of the data;
- `linear`: label draws, the validation split, the scikit-learn classifier;
- `supervised`: the supervised baseline;
- `evaluation`: `probe`, the experiment as one call; `table`: its text table.
"""

from dcgan_tf.probe.block_features import (
    GRID,
    extract_features,
    feature_spans,
    pool_to_grid,
    recompute_batch_norm,
)
from dcgan_tf.probe.discriminator import (
    LoadedDiscriminator,
    block_layers,
    load_discriminator,
    untrained_copy,
)
from dcgan_tf.probe.experiment import METHODS, Report, Row, probe
from dcgan_tf.probe.linear import CLASSIFIERS, LabelError, draw_labels, select_and_fit
from dcgan_tf.probe.supervised import Recipe, train_supervised
from dcgan_tf.probe.table import format_table

__all__ = [
    "CLASSIFIERS",
    "GRID",
    "METHODS",
    "LabelError",
    "LoadedDiscriminator",
    "Recipe",
    "Report",
    "Row",
    "block_layers",
    "draw_labels",
    "extract_features",
    "feature_spans",
    "format_table",
    "load_discriminator",
    "pool_to_grid",
    "probe",
    "recompute_batch_norm",
    "select_and_fit",
    "train_supervised",
    "untrained_copy",
]
