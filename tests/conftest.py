"""Shared by every test module: the helpers of apptest_utils importable, and no
training thread outliving the test that started it."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import worker  # noqa: E402


@pytest.fixture(autouse=True)
def _stop_training_threads():
    yield
    worker.stop_all()
