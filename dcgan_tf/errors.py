"""The error and warning of missing or unreadable data.

They live below `datasets`, `folders` and `data` so that all three raise the
same classes; import them from `dcgan_tf.data`, their public home.
"""


class DataError(ValueError):
    """A data set is missing or unreadable; the message says what to do."""


class DataWarning(UserWarning):
    """Some files of a data set were skipped."""
