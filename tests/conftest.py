from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# Small networks and batches: a CLI run of a few steps takes seconds on 2 cores.
TINY = [
    "--generator-filters",
    "8",
    "--discriminator-filters",
    "8",
    "--latent-dim",
    "16",
    "--batch-size",
    "16",
    "--num-samples",
    "16",
]


@pytest.fixture
def fashion_dir():
    return str(DATA / "fashion-mnist")
