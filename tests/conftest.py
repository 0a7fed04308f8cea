"""Shared by every test module: the helpers of apptest_utils importable, no
training thread outliving the test that started it, the data the app reads, and the
files that download buttons offer (`downloads`).

A module that opens the app's pages picks its data with
`pytestmark = pytest.mark.usefixtures("builtin_sample")` (or "builtin_sample_always").
"""
import os

# One BLAS thread, as the app itself sets before NumPy is imported (dashboard.py): the figures the tests
# check against the app's own (handouts, lesson plans) are then the ones the app shows, bit for bit.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import worker  # noqa: E402

# The class store's fixtures (db_url, pg_url: real SQLite and PostgreSQL) for every module.
pytest_plugins = ["class_db"]


@pytest.fixture(scope="session", autouse=True)
def _class_store_of_the_test_run(tmp_path_factory):
    """Pages that open the class store use a file of this test run, never the user's data folder."""
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("DIGITS_DB"):
            mp.setenv("DIGITS_DB", str(tmp_path_factory.mktemp("class") / "class.sqlite3"))
        yield


@pytest.fixture(autouse=True)
def _stop_training_threads():
    yield
    worker.stop_all()          # training runs, and pages' works in the line (engine/linework.py)


def _mnist_dir_empty(always):
    # Module scope, so the module's own module-scoped fixtures see it too.
    with pytest.MonkeyPatch.context() as mp:
        if always or os.environ.get("MNIST_DIR") is None:
            mp.setenv("MNIST_DIR", "")
        yield


@pytest.fixture(scope="module")
def builtin_sample():
    """The app reads the built-in sample unless MNIST_DIR names a full copy (CI has none)."""
    yield from _mnist_dir_empty(always=False)


@pytest.fixture(scope="module")
def builtin_sample_always():
    """The app reads the built-in sample even when MNIST_DIR names a full copy (as CI does)."""
    yield from _mnist_dir_empty(always=True)


@pytest.fixture
def sample_only(monkeypatch, tmp_path):
    """The app as on a fresh user's machine: no MNIST_DIR, an empty cache folder (so the
    built-in sample), run from the project's folder as `streamlit run dashboard.py` is."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("DIGITS_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)


@pytest.fixture
def downloads(monkeypatch):
    """Every file a download button offers: {file name: bytes} (AppTest keeps no media files)."""
    files = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            files[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files
