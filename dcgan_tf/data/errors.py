"""The error and warning of missing or unreadable data, shared by every module of
`dcgan_tf.data`; import them from `dcgan_tf.data`, their public home.
"""

import os
import sys
import warnings

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class DataError(ValueError):
    """A data set is missing or unreadable; the message says what to do."""


class DataWarning(UserWarning):
    """Some files of a data set were skipped."""


def warn(message: str) -> None:
    """Issues a `DataWarning` pointing at the first caller outside `dcgan_tf.data`."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, DataWarning, stacklevel=level)
