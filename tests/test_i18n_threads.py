"""A run trains in a thread of its own (the line of runs), yet what it writes (why it diverged) is in the
language of the page that started it, reason included."""
import threading

import pytest

import i18n
from engine.data import load_sample
from engine.network import Network
from engine.trainer import Settings, Trainer


@pytest.fixture
def italian():
    i18n.use("it")
    yield
    i18n.use("en")


def test_a_diverged_run_says_why_in_its_pages_language_from_its_own_thread(italian):
    d = load_sample()
    run = Trainer(Network([784, 16, 10]), d.x_train[:2000], d.y_train[:2000],
                  Settings(sizes=(784, 16, 10), lr=100, epochs=2, val_fraction=0.1))
    thread = threading.Thread(target=run.run)          # a fresh thread: no language of its own
    thread.start()
    thread.join()
    assert run.diverged
    assert run.message.startswith("L'addestramento è divergente all'epoca 1, batch ")
    assert "un peso ha raggiunto" in run.message and "Prova un tasso di apprendimento più piccolo" in run.message
