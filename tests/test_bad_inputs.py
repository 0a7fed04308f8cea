"""Bad input never breaks a session: each gets a clear message and nothing is lost.

Every case runs on the real pages through Streamlit's AppTest, in a session that
already has a model of its own. After each bad input we check that
  - the message names what is wrong (its key words),
  - the session's model is the same object with the same weights,
  - the app still answers: another rerun raises nothing and shows the page title.

Model uploads go through the Train page's real st.file_uploader (AppTest in
Streamlit 1.67 supports it), so the page's own upload code (ui/training.py
load_uploaded -> engine.modelfile.load_model) is what runs.

Run: `MNIST_DIR= .venv/bin/python -m pytest tests/test_bad_inputs.py -q`
"""
import io
import os
import socket
import tomllib
import tracemalloc
import zipfile
from pathlib import Path
from apptest_utils import canvas_state, open_page, run_until_done, texts  # noqa: E402

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from engine import data as engine_data
from engine.data import DataError, download_mnist
from engine.modelfile import MAX_PARAMS, ModelFileError, load_model, model_arrays, model_to_bytes
from engine.network import Network
from engine.preprocess import ALL_INK
from engine.trainer import Settings, new_run

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
HOME, TRAIN, DRAW = None, "app_pages/4_train.py", "app_pages/6_draw.py"
TITLES = {HOME: "Digits from Scratch", TRAIN: "Train your own network", DRAW: "Draw a digit"}


pytestmark = pytest.mark.usefixtures("builtin_sample")


# ------------------------------------------------------------------ helpers

def give_model(at):
    """Put a model of its own into the session (as an upload would) and return a snapshot."""
    net = Network([784, 16, 10], seed=3)
    at.session_state["model"] = net
    at.session_state["model_info"] = {"label": "your model (784-16-10, relu, test)", "settings": {},
                                      "origin": "set by the test"}
    return snapshot(net)


def train_page_with_a_model():
    """A session on the Train page with a model of its own, drawn once: (at, snapshot)."""
    at = open_page(TRAIN)
    snap = give_model(at)
    at.run()
    return at, snap


def snapshot(net):
    return net, [p.copy() for p in net.params()]


def assert_model_kept(at, snap):
    net, params = snap
    now = at.session_state["model"]
    assert now is net, "the session's model was replaced"
    assert len(now.params()) == len(params)
    assert all(np.array_equal(a, b) for a, b in zip(now.params(), params)), "the session's model changed"


def assert_still_answers(at, page):
    at.run()
    assert not at.exception, at.exception
    assert TITLES[page] in at.title[0].value


def npz_bytes(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def good_model():
    return Network([784, 16, 10], seed=7)


def changed(**kw):
    arrays = model_arrays(good_model())
    arrays.update(kw)
    return npz_bytes(arrays)


def zip_bomb(shape=(16, 4_000_000)):
    """A valid-looking model file whose W0 says it holds `shape` float32 zeros:
    a ~1 MB upload that would take 256 MB of memory once loaded."""
    arrays = model_arrays(good_model())
    del arrays["W0"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for key, value in arrays.items():
            with z.open(key + ".npy", "w") as f:
                np.lib.format.write_array(f, value)
        with z.open("W0.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": shape})
            chunk = bytes(1 << 22)
            for _ in range(4 * int(np.prod(shape)) // len(chunk)):
                f.write(chunk)
    return buf.getvalue()


def huge_sizes():
    """A tiny file that claims 784-100000-100000-100000-10 layers and holds no weights."""
    arrays = model_arrays(good_model())
    for key in ("W0", "b0", "W1", "b1"):
        del arrays[key]
    arrays["sizes"] = np.array([784, 100_000, 100_000, 100_000, 10])
    return npz_bytes(arrays)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ model uploads

GOOD = model_to_bytes(good_model())
_png = io.BytesIO()
Image.fromarray(np.zeros((28, 28), np.uint8)).save(_png, format="PNG")
PNG = _png.getvalue()

UPLOADS = {
    # name: (file name, content, key words the message must contain)
    # (Files not named .npz never get here: the browser's file dialog and Streamlit refuse them.)
    "not an npz": ("notes.npz", b"These are my notes, not a model.", ["not a model file", "expected an .npz"]),
    "a picture": ("digit.npz", PNG, ["digit.npz is not a model file"]),
    "empty": ("empty.npz", b"", ["empty.npz is empty"]),
    "truncated": ("cut.npz", GOOD[:len(GOOD) // 2], ["cut.npz is truncated or damaged"]),
    "pickled objects": ("evil.npz", changed(W0=np.array([{"run": "code"}], dtype=object)),
                        ["pickled Python objects", "never loaded"]),
    "wrong shapes": ("shapes.npz", changed(W0=np.zeros((16, 700), np.float32)),
                     ["'W0' has shape (16, 700), expected (16, 784)"]),
    "NaN weights": ("nan.npz", changed(W1=np.full((10, 16), np.nan, np.float32)),
                    ["'W1' contains NaN or infinite values"]),
    "wrong input size": ("small.npz", model_to_bytes(Network([100, 8, 10])), ["needs 784 inputs and 10 outputs"]),
    "100,001 units": ("wide.npz", changed(sizes=np.array([784, 100_001, 10])),
                      ["layer sizes", "must be between 1 and 100,000"]),
    "huge sizes, no weights": ("huge.npz", huge_sizes(), ["huge.npz is too big", f"at most {MAX_PARAMS:,}"]),
    "zip bomb": ("bomb.npz", zip_bomb(), ["bomb.npz is too big", "256 MB once loaded"]),
}


@pytest.fixture(scope="module")
def train_page():
    """One session on the Train page with a model of its own, shared by the upload cases."""
    return train_page_with_a_model()


@pytest.mark.parametrize("case", list(UPLOADS))
def test_bad_model_upload_is_refused_and_the_model_kept(train_page, case):
    at, snap = train_page
    name, content, words = UPLOADS[case]
    at.file_uploader(key="train_upload").set_value((name, content, "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    message = texts(at.error)
    assert "Could not load that model" in message, message
    for word in words:
        assert word in message, message
    assert "Your current model is still in use." in message
    assert_model_kept(at, snap)
    assert_still_answers(at, TRAIN)


def test_upload_size_limit_is_set_and_the_engine_refuses_big_arrays_without_reading_them():
    # The server refuses uploads over the limit (Streamlit enforces server.maxUploadSize),
    # which is no lower than what the uploader asks for (the biggest trainable model) ...
    from ui import limits
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] >= limits.UPLOAD_MB
    # ... and the engine checks what a file *claims* before loading anything, so a
    # small compressed file cannot make the server allocate gigabytes.
    bomb = zip_bomb()
    assert len(bomb) < limits.UPLOAD_MB * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="too big"):
            load_model(bomb, name="bomb.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6, f"{peak / 1e6:.0f} MB allocated while refusing the file"
    with pytest.raises(ModelFileError, match="too big"):
        load_model(huge_sizes(), name="huge.npz")     # would need 80 GB if built
    with pytest.raises(ModelFileError, match="between 1 and 100,000"):
        load_model(changed(sizes=np.array([784, 100_001, 10])), name="wide.npz")
    load_model(GOOD)                                   # a normal file still loads


# ------------------------------------------------------------------ settings

@pytest.fixture(scope="module")
def settings_page():
    return train_page_with_a_model()


def n_train(at):
    from ui import state      # the same cached dataset the page uses
    ds = state._dataset(os.environ.get("MNIST_DIR", ""))
    return len(ds.x_train) - int(round(len(ds.x_train) * Settings().val_fraction))


SETTINGS = {
    # case: (widget key, bad value, key words of the "Can't start" message)
    "0 hidden units": ("train_hidden", "0", ["every hidden layer needs at least 1 unit"]),
    "learning rate 0": ("train_lr", 0.0, ["learning rate must be above 0"]),
    "batch bigger than the data": ("train_batch_size", None, ["batch size", "is bigger than the", "training examples"]),
}


@pytest.mark.parametrize("case", list(SETTINGS))
def test_out_of_range_setting_is_refused_with_a_clear_message(settings_page, case):
    at, snap = settings_page
    at.button(key="train_defaults").click().run()
    key, value, words = SETTINGS[case]
    if key == "train_batch_size":
        value = n_train(at) + 1
    widget = at.text_input(key=key) if key == "train_hidden" else at.number_input(key=key)
    widget.set_value(value).run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    message = texts(at.error)
    assert "Can't start" in message, message
    for word in words:
        assert word in message, message
    assert at.session_state["train_status"] == "idle" and "trainer" not in at.session_state
    assert_model_kept(at, snap)
    assert_still_answers(at, TRAIN)


def test_a_refused_setting_is_said_in_the_pages_language():
    """In Italian, the engine's sentence for a batch bigger than the training set is Italian too, its numbers
    written as Italian writes them (it was English inside the Italian "Impossibile avviare")."""
    import i18n
    at = open_page(TRAIN, {"lang": "it"})
    try:
        n = n_train(at)
        at.number_input(key="train_batch_size").set_value(n + 1).run()
        at.button(key="train_start").click().run()
        assert not at.exception, at.exception
        message = texts(at.error)
        italian = lambda k: f"{k:,}".replace(",", ".")            # noqa: E731  (9.001: a dot between thousands)
        assert (f"la dimensione del mini-batch, {italian(n + 1)}, è maggiore dei {italian(n)} esempi di "
                "addestramento") in message, message
        assert "bigger" not in message and "training examples" not in message, message
        assert at.session_state["train_status"] == "idle" and "trainer" not in at.session_state
    finally:
        i18n.use(i18n.SOURCE)           # AppTest runs the page in this thread's context: English for the next test


def test_a_cnn_that_cannot_be_built_is_said_in_the_pages_language():
    """Three 9x9 convolutions with 4x4 pooling leave the third one a 5x5 input: Start says so, in Italian
    (it was English, and ended on "its output would be (8, -3, -3)")."""
    import i18n
    at = open_page(TRAIN, {"lang": "it", "kind": "cnn", "filters": "8-8-8", "kernel": "9", "pool": "4"})
    try:
        before = texts(at.warning)                    # before Start, in a box of its own (it was a grey caption)
        assert "Questo non si può addestrare: strato 4 (conv 8@9x9) non ha più niente su cui lavorare" in before
        at.button(key="train_start").click().run()
        assert not at.exception, at.exception
        message = texts(at.error)
        assert ("Impossibile avviare: strato 4 (conv 8@9x9) non ha più niente su cui lavorare: il suo ingresso è "
                "di soli 5×5 pixel") in message, message
        assert at.session_state["train_status"] == "idle" and "trainer" not in at.session_state
    finally:
        i18n.use(i18n.SOURCE)


@pytest.mark.parametrize("key,value,words", [
    ("train_lr", 1e6, "learning rate must be above 0 and at most 100"),
    ("train_epochs", 0, "epochs must be at least 1"),
])
def test_settings_the_widgets_cannot_hold_are_also_refused_by_the_engine(settings_page, key, value, words):
    """The number inputs have bounds (lr <= 100, epochs >= 1): a value outside them
    never reaches the engine (Streamlit puts the widget back to its minimum). The
    engine refuses it anyway, for the CLI and for settings coming from a link."""
    at, snap = settings_page
    at.button(key="train_defaults").click().run()
    at.number_input(key=key).set_value(value).run()
    assert not at.exception, at.exception
    held = at.number_input(key=key).value
    assert held != value and (0 <= held <= 100 if key == "train_lr" else held >= 1)
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    run = at.session_state["trainer"] if "trainer" in at.session_state else None
    if run is not None:                              # it started with a value inside the bounds
        assert 0 < run.settings.lr <= 100 and run.settings.epochs >= 1
        at.button(key="train_reset").click().run()
    else:
        assert "Can't start" in texts(at.error)
    bad = Settings(**{"lr": value} if key == "train_lr" else {"epochs": value})
    with pytest.raises(ValueError, match=words):
        bad.check(1000)
    x = np.zeros((200, 784), np.float32)
    run = new_run(x, np.arange(200) % 10, Settings(sizes=(784, 8, 10), batch_size=10, epochs=1))
    with pytest.raises(ValueError, match=words):
        run.set_hyperparams(**{"lr": value} if key == "train_lr" else {"epochs": value})
    assert run.settings.lr == 0.1 and run.settings.epochs == 1    # the run kept its settings
    assert_model_kept(at, snap)
    assert_still_answers(at, TRAIN)


def test_a_lesson_link_with_settings_out_of_range_is_ignored_with_a_note_for_each():
    """Settings can also arrive in the address (lesson links, ui/lesson.py)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    snap = give_model(at)
    for name, value in {"lr": "1e6", "epochs": "0", "batch": "abc", "momentum": "2"}.items():
        at.query_params[name] = value
    at.switch_page(TRAIN)
    at.run()
    assert not at.exception, at.exception
    notes = texts(at.warning)
    for words in ("`lr=1e6`: must be above 0 and at most 100", "`epochs=0`: must be from 1 to 200",
                  "`batch=abc`: not a number", "`momentum=2`"):
        assert words in notes, notes
    defaults = Settings()
    assert at.session_state["train_lr"] == defaults.lr and at.session_state["train_epochs"] == defaults.epochs
    assert at.session_state["train_batch_size"] == defaults.batch_size
    assert_model_kept(at, snap)
    assert_still_answers(at, TRAIN)


def test_a_diverging_run_keeps_the_model_and_says_what_to_do():
    at = open_page(TRAIN)
    snap = give_model(at)
    at.number_input(key="train_lr").set_value(100.0).run()
    at.button(key="train_start").click().run()
    assert run_until_done(at) == "diverged"
    run = at.session_state["trainer"]
    errors = texts(at.error)
    assert "Training diverged" in errors and "too high" in errors and "Try a smaller learning rate" in errors
    assert "did not replace your model" in texts(at.warning)
    assert all(np.isfinite(p).all() for p in run.net.params())      # the last good weights
    assert_model_kept(at, snap)
    assert_still_answers(at, TRAIN)


# ------------------------------------------------------------------ drawings

def blank_canvas():
    img = np.zeros((280, 280, 4), np.uint8)
    img[..., 3] = 255                       # opaque black, as the page's canvas sends it
    return img


def predicted(at):
    return any('id="draw-prediction"' in m.value for m in at.markdown)


def test_all_ink_drawing_asks_to_clear_and_guesses_nothing():
    at = open_page(DRAW)
    snap = give_model(at)
    img = blank_canvas()
    img[..., :3] = 255                      # painted over: all ink
    at.session_state["draw_canvas_0"] = canvas_state(img)
    at.run()
    assert not at.exception, at.exception
    assert ALL_INK in texts(at.warning) and "whole canvas is ink" in texts(at.warning)
    assert not predicted(at)
    assert_model_kept(at, snap)
    assert_still_answers(at, DRAW)


def test_one_pixel_drawing_is_not_read_as_a_digit():
    at = open_page(DRAW)
    snap = give_model(at)
    img = blank_canvas()
    img[140, 140, :3] = 255                 # one white pixel
    at.session_state["draw_canvas_0"] = canvas_state(img)
    at.run()
    assert not at.exception, at.exception
    assert not predicted(at)                # no guess from a dot
    message = texts(at.info)
    assert "too little ink to be a digit" in message and "large" in message, message
    at.button(key="draw_clear").click().run()            # a fresh canvas: back to the invitation
    assert "Draw a digit in the black square" in texts(at.info)
    assert_model_kept(at, snap)
    assert_still_answers(at, DRAW)


# ------------------------------------------------------------------ downloads

def test_unwritable_cache_folder_gives_a_clear_data_error(tmp_path):
    (tmp_path / "file").write_text("a regular file, not a folder")
    folder = tmp_path / "file" / "sub"      # can't be created, even by root
    with pytest.raises(DataError) as err:
        download_mnist(folder, mirrors=[f"http://127.0.0.1:{closed_port()}/"], timeout=2)
    message = str(err.value)
    assert str(folder) in message and "cannot write to the cache folder" in message
    assert "DIGITS_CACHE_DIR" in message
    assert not folder.exists()


def test_every_mirror_down_gives_a_data_error_naming_each(tmp_path):
    mirrors = [f"http://127.0.0.1:{closed_port()}/mnist/" for _ in range(3)]
    with pytest.raises(DataError) as err:
        download_mnist(tmp_path, mirrors=mirrors, timeout=2)
    message = str(err.value)
    assert "could not download train-images-idx3-ubyte.gz" in message
    for mirror in mirrors:
        assert mirror + "train-images-idx3-ubyte.gz: Connection refused" in message, message
    assert list(tmp_path.iterdir()) == []   # nothing half-written


@pytest.mark.parametrize("case", ["unwritable cache", "every mirror down"])
def test_home_page_download_failure_is_shown_and_the_session_goes_on(tmp_path, monkeypatch, case):
    """The Home page's 'Download full MNIST' button, with the failure happening for real."""
    if case == "unwritable cache":
        (tmp_path / "file").write_text("not a folder")
        monkeypatch.setenv("DIGITS_CACHE_DIR", str(tmp_path / "file" / "sub"))
        words = ["Download failed", "cannot write to the cache folder", "DIGITS_CACHE_DIR"]
    else:
        monkeypatch.setenv("DIGITS_CACHE_DIR", str(tmp_path / "cache"))
        mirrors = [f"http://127.0.0.1:{closed_port()}/m{i}/" for i in range(2)]
        monkeypatch.setattr(engine_data, "MIRRORS", mirrors)
        words = ["Download failed", "could not download"] + [m + "train-images-idx3-ubyte.gz" for m in mirrors]
    at = open_page(HOME)
    if os.environ.get("MNIST_DIR"):
        pytest.skip("the download button is shown only while the built-in sample is in use")
    snap = give_model(at)
    at.run()
    at.button(key="download_mnist").click().run()
    assert not at.exception, at.exception
    message = texts(at.error)
    for word in words:
        assert word in message, message
    assert "built-in sample" in texts(at.markdown)          # still using the sample
    assert_model_kept(at, snap)
    assert_still_answers(at, HOME)
