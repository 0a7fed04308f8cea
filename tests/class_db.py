"""Fixtures for the class-store tests: a fresh store on SQLite and on a real PostgreSQL server.

tests/conftest.py makes the fixtures available to every module: take `db_url` (a test runs
once per backend) or `pg_url`.
"""
import numpy as np
import pytest

import pg_server
from classroom.store import drawing_png


@pytest.fixture(scope="session")
def pg_url():
    """A throwaway PostgreSQL server for the whole test run (skipped, saying why, without the binaries)."""
    reason = pg_server.missing_reason()
    if reason:
        pytest.skip(reason)
    with pg_server.postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Where a fresh, empty class store goes: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "class.sqlite3")
    return pg_server.new_database(request.getfixturevalue("pg_url"))


def digit(seed=0):
    """A 28x28 'digit' of 784 uint8 values with plenty of ink, different for each seed."""
    rng = np.random.default_rng(seed)
    x = np.zeros((28, 28), np.uint8)
    x[6:22, 10 + seed % 6: 14 + seed % 6] = rng.integers(128, 256, size=(16, 4))
    return x.reshape(784)


PNG = drawing_png(np.eye(60, dtype=np.float32))
