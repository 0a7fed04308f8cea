"""Home's MNIST folder box (issue 11): no folder name a student types can break the session.

A folder is tried before it is kept, so a bad one gives one sentence on Home and
every page goes on with the data loaded before. Also: the built-in sample read
from its .npz path is named as the sample; the current model's test accuracy
says when it was measured on other data than the data loaded now; the box shows
the folder in use again after a page switch.

Run on the built-in sample: MNIST_DIR is empty and the download cache is an empty folder.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.data import SAMPLE_PATH, DataError, load_mnist, load_sample
from engine.network import Network
from ui import pages

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
PAGES = {"app_pages/1_dataset.py": "Dataset", "app_pages/4_train.py": "Train your own network",
         "app_pages/5_evaluate.py": "Evaluate"}


@pytest.fixture(autouse=True)
def sample_only(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DIR", "")
    monkeypatch.setenv("DIGITS_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def open_home():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def go_home(at):
    """Switch back to Home."""
    at.switch_page(pages.HOME.path)
    at.run()
    assert not at.exception, at.exception
    return at


def type_folder(at, text):
    at.text_input(key="data_dir_input").input(text).run()
    assert not at.exception, at.exception
    return at


def all_text(at):
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += [e.value for e in at.success] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


def bad_names(tmp_path):
    (tmp_path / "a-file.txt").write_text("a file, not a folder")
    (tmp_path / "empty").mkdir()
    return {"unknown user": "~nosuchuser/mnist", "300 characters": "m" * 300,
            "NUL byte": str(tmp_path / "mnist\x00x"), "a file": str(tmp_path / "a-file.txt"),
            "empty folder": str(tmp_path / "empty")}


# ------------------------------------------------------------ bad folder names

@pytest.mark.parametrize("case", ["unknown user", "300 characters", "NUL byte", "a file", "empty folder"])
def test_a_bad_folder_name_gives_one_sentence_and_every_page_keeps_its_data(case, tmp_path, sample):
    name = bad_names(tmp_path)[case]
    at = type_folder(open_home(), name)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "That folder cannot be used" in errors[0], errors
    assert "still in use" in errors[0] and len(errors[0]) < 500, errors[0]
    assert at.session_state["data_dir"] == ""          # the automatic choice is kept
    assert sample.source in all_text(at)
    for page, title in PAGES.items():
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert title in at.title[0].value
        assert not at.error, (page, [e.value for e in at.error])
        assert sample.source in all_text(at), page    # each of these pages names the data it uses
    go_home(at)
    assert not at.error and sample.source in all_text(at)


def test_a_bad_name_after_a_good_folder_keeps_the_good_one(tmp_path):
    at = type_folder(open_home(), str(SAMPLE_PATH))
    assert at.session_state["data_dir"] == str(SAMPLE_PATH)
    type_folder(at, "~nosuchuser/mnist")
    assert at.error and at.session_state["data_dir"] == str(SAMPLE_PATH)
    at.switch_page("app_pages/4_train.py").run()
    assert not at.exception and str(SAMPLE_PATH) in all_text(at)


@pytest.mark.parametrize("name", ["~nosuchuser/mnist", "m" * 300, "/tmp/mnist\x00x", "/" + "d/" * 3000],
                         ids=["unknown user", "300 characters", "NUL byte", "6000-character path"])
def test_engine_turns_path_trouble_into_one_data_error(name):
    with pytest.raises(DataError) as err:
        load_mnist(data_dir=name)
    message = str(err.value)
    assert "\n" not in message and len(message) < 200, message


@pytest.mark.parametrize("name", ["~nosuchuser/mnist", "m" * 300], ids=["unknown user", "300 characters"])
def test_cli_says_one_line_for_a_bad_mnist_dir(name):
    env = {**os.environ, "MNIST_DIR": name}
    done = subprocess.run([sys.executable, "-m", "engine", "evaluate", "engine/models/pretrained.npz"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: "), done.stderr


# ------------------------------------------------------------ the sample read from its path

def test_the_sample_npz_given_as_a_folder_is_named_as_the_sample(sample):
    data = load_mnist(data_dir=str(SAMPLE_PATH))
    assert data.is_sample and data.source.startswith(sample.source) and "full MNIST" not in data.source
    assert len(data.y_train) == len(sample.y_train)
    at = type_folder(open_home(), str(SAMPLE_PATH))
    assert "Now using: built-in sample" in at.success[0].value
    assert "full MNIST" not in at.success[0].value
    assert at.button(key="download_mnist") is not None     # still offered: this is not the full set


def test_cli_names_the_sample_given_as_mnist_dir():
    env = {**os.environ, "MNIST_DIR": str(SAMPLE_PATH)}
    done = subprocess.run([sys.executable, "-m", "engine", "evaluate", "engine/models/pretrained.npz"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "dataset: built-in sample" in done.stdout and "full MNIST" not in done.stdout.split("\n")[0]


# ------------------------------------------------------------ where the accuracy was measured

def test_pretrained_accuracy_says_it_was_measured_on_other_data(sample):
    at = open_home()
    help_text = at.metric[0].help
    assert "full MNIST" in help_text and sample.source in help_text and "loaded now" in help_text


def give_model(at, info):
    at.session_state["model"] = Network([784, 16, 10], seed=3)
    at.session_state["model_info"] = {"label": "your model", **info}
    at.run()
    assert not at.exception, at.exception
    return at.metric[0].help


def test_a_model_trained_on_full_mnist_and_shown_with_the_sample_says_so(sample):
    help_text = give_model(open_home(), {"settings": {}, "test_accuracy": 0.98,
                                         "source": "full MNIST from /data/mnist"})
    assert "full MNIST from /data/mnist" in help_text and "loaded now is " + sample.source in help_text


def test_an_upload_measured_on_the_sample_names_the_sample_not_its_files_dataset(sample):
    # The file says it was trained on full MNIST, but the session measured it on the sample.
    help_text = give_model(open_home(), {"settings": {"dataset": "full MNIST", "test_accuracy": 0.99},
                                         "test_accuracy": 0.9, "source": sample.source})
    assert help_text == f"Measured on the test images of {sample.source}."


# ------------------------------------------------------------ the box after a page switch

def test_the_folder_box_shows_the_folder_in_use_after_a_page_switch():
    at = type_folder(open_home(), str(SAMPLE_PATH))
    at.switch_page("app_pages/1_dataset.py").run()
    assert not at.exception
    go_home(at)
    assert at.text_input(key="data_dir_input").value == str(SAMPLE_PATH)
    at.run()                                        # a plain rerun changes nothing
    assert not at.exception and not at.error
    assert at.text_input(key="data_dir_input").value == str(SAMPLE_PATH)
