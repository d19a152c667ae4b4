"""How good are a generator's images: one module per concern.

- `distances`: FID, KID and the Inception Score of two sets of features
  (`frechet_distance`, `kernel_distance`, `inception_score`, `RunningStats`).
- `features`: the feature networks that turn images into those features
  (`feature_extractor`, `ClassifierFeatures`, `InceptionFeatures`, `Features`).
- `classifiers`: the small classifiers that ship in `dcgan_tf/weights/`
  (`build_classifier`, `load_classifier`, `train_classifier`, `IMAGE_SHAPES`).
- `evaluation`: a generator or a real split measured against real images
  (`evaluate`, `memorisation_check`); `measures`: what it measures
  (`evaluate_generator`, `compare`, `sample_images`, the image measures),
  every name importable from `evaluation` too; `table`: the table printed.
- `neighbours`: samples beside their nearest training images
  (`nearest_neighbours`, `reference_distances`, `neighbour_grid`).
- `monitor`: the training callback that logs KID and keeps the best
  generator (`QualityMonitor`).

Import each name from its module; this package re-exports nothing. The
commands are `dcgan_tf.evaluate`, `dcgan_tf.neighbours` and
`dcgan_tf.train_classifier`.
"""
