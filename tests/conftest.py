"""Test setup shared by the whole suite: Keras 2 for TFRS/TFMA, quiet TensorFlow, the shared data."""

import os
import pathlib

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # must precede the first TensorFlow import
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

DATA_DIR = pathlib.Path(os.environ.get("SSR_DATA_DIR", pathlib.Path(__file__).resolve().parents[1].parent
                                       / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> pathlib.Path:
    """`../shared/data` beside the checkout (or $SSR_DATA_DIR)."""
    if not DATA_DIR.is_dir():
        pytest.fail(f"shared data not found at {DATA_DIR}; set SSR_DATA_DIR")
    return DATA_DIR


def pytest_collection_modifyitems(config, items) -> None:
    """Runs the files holding `slow` tests first (stable order otherwise).

    Under `pytest -n 2 --dist loadfile` the long pipeline and cluster files then start at once, and
    the short files fill in around them instead of one long file running alone at the end.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
