"""Training is bit-identical to the code before the model's refactoring (#29).

`tests/data/make_reference_weights.py` recorded every variable of a tiny DCGAN
after 3 steps, per case and backend, with the code before `dcgan_tf/model/`;
each case here trains again under the current backend and must give the same
bits. A case with no recording for this backend is skipped.
"""

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "data"))
import make_reference_weights as reference  # noqa: E402

BACKEND = keras.backend.backend()


@pytest.mark.parametrize("case", list(reference.CASES))
def test_training_gives_the_recorded_weights(case):
    path = reference.reference_path(BACKEND, case)
    if not path.exists():
        pytest.skip(f"no recording of {case!r} under {BACKEND}")
    recorded = dict(np.load(path))
    trained = reference.variable_values(reference.trained_model(case))
    assert sorted(trained) == sorted(recorded)
    differ = [
        key for key in recorded if not np.array_equal(trained[key], recorded[key])
    ]
    assert not differ, f"{len(differ)} of {len(recorded)} variables differ: {differ}"
