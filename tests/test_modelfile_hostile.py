"""Hostile model files (issue 11): crafted or corrupted uploads give a ModelFileError,
never a traceback; odd settings are dropped with a note; huge weights are refused;
and the Inside page explains, instead of crashing, when a model's maths fails.
"""
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine import analysis
from engine.modelfile import (MAX_ABS_PARAM, ModelFileError, clean_settings, load_model, load_model_with_notes,
                              model_arrays, model_to_bytes)
from engine.network import Network
from model_file_utils import fuzz_loads, npz

ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "engine" / "models" / "pretrained.npz"


def small_arrays(settings=None):
    return model_arrays(Network([784, 8, 10], seed=0), settings if settings is not None else {"lr": 0.1})


def refused(content):
    """The ModelFileError load_model raises for content (any other exception fails the test)."""
    with pytest.raises(ModelFileError) as err:
        load_model(content, name="upload.npz")
    return str(err.value)


# ------------------------------------------------------------ bug 4: crafted archives

def set_header_fields(content, flag_bits=0, method=None):
    """Every local and central zip header with flag_bits or-ed into its flags, and its
    compression method replaced by `method`."""
    b = bytearray(content)
    # (signature, offset of the flags field; the method follows it)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = b.find(signature)
        while i >= 0:
            flags, = struct.unpack_from("<H", b, i + flags_at)
            struct.pack_into("<H", b, i + flags_at, flags | flag_bits)
            if method is not None:
                struct.pack_into("<H", b, i + flags_at + 2, method)
            i = b.find(signature, i + 4)
    return bytes(b)


def test_damaged_deflate_data_is_refused():
    content = bytearray(npz(small_arrays(), compressed=True))
    info = zipfile.ZipFile(io.BytesIO(bytes(content))).getinfo("W0.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + info.compress_size - 10, 7):
        content[i] ^= 0xFF
    content = bytes(content)
    with pytest.raises(zlib.error):             # the crafted file is what it claims to be
        zipfile.ZipFile(io.BytesIO(content)).read("W0.npy")
    assert "damaged" in refused(content)


def test_encrypted_flag_is_refused():
    content = set_header_fields(model_to_bytes(Network([784, 8, 10])), flag_bits=0x1)
    with pytest.raises(RuntimeError, match="encrypted"):
        zipfile.ZipFile(io.BytesIO(content)).read("W0.npy")
    assert "encrypted" in refused(content)


def test_unknown_compression_method_is_refused():
    content = set_header_fields(model_to_bytes(Network([784, 8, 10])), method=9)
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(io.BytesIO(content)).read("W0.npy")
    assert "compressed in a way" in refused(content)


def test_deeply_nested_settings_are_refused():
    deep = "[" * 100_000
    with pytest.raises(RecursionError):
        json.loads(deep)
    assert "settings" in refused(npz({**small_arrays(), "settings": np.array(deep)}))


def test_settings_number_with_thousands_of_digits_is_refused():
    text = '{"epochs": ' + "9" * 5000 + "}"      # Python refuses to convert it (ValueError)
    assert "settings" in refused(npz({**small_arrays(), "settings": np.array(text)}))


def test_negative_declared_shapes_are_refused():
    content = bytearray(model_to_bytes(Network([784, 8, 10])))
    header = b"'shape': (8, 784)"
    at = content.find(header)
    assert at > 0
    content[at:at + len(header)] = b"'shape': (-8,784)"     # same length, so the archive stays intact
    assert "negative shape" in refused(bytes(content))


# ------------------------------------------------------------ bug 5: settings

def loaded_settings(settings_json):
    _, settings, notes = load_model_with_notes(npz({**small_arrays(), "settings": np.array(settings_json)}))
    return settings, notes


@pytest.mark.parametrize("bad", [
    {"lr": "fast"}, {"optimizer": ["x"]}, {"epochs": -5}, {"epochs": True}, {"epochs": 2.5},
    {"momentum": 1.0}, {"batch_size": 0}, {"shuffle": "yes"}, {"sizes": [784, "x", 10]},
    {"activation": "swish"}, {"test_accuracy": 98.7}, {"dataset": {"a": 1}}, {"dataset": "x" * 1000},
])
def test_mistyped_or_out_of_range_settings_are_dropped_with_a_note(bad):
    (key, value), = bad.items()
    settings, notes = loaded_settings(json.dumps({**bad, "seed": 3}))
    assert settings == {"seed": 3}                      # the good one is kept
    assert len(notes) == 1 and f"'{key}'" in notes[0]


@pytest.mark.parametrize("text", ['{"lr": 1e400}', '{"lr": NaN}', '{"lr": -Infinity}', '{"seed": 1e400}'])
def test_non_finite_numbers_in_settings_are_dropped(text):
    settings, notes = loaded_settings(text)
    assert settings == {} and len(notes) == 1


def test_unknown_settings_are_dropped_and_the_notes_stay_short():
    settings, notes = loaded_settings(json.dumps({f"key{i}": i for i in range(1000)} | {"epochs": 3}))
    assert settings == {"epochs": 3}
    assert 1 < len(notes) < 20 and "more" in notes[-1]
    assert all(len(n) < 200 for n in notes)


def test_settings_the_app_writes_come_back_whole():
    with np.load(PRETRAINED) as f:
        written = json.loads(str(f["settings"]))
    assert len(written) > 10                              # all of Settings, plus what the CLI adds
    _, settings, notes = load_model_with_notes(str(PRETRAINED))
    assert notes == [] and settings == written
    assert load_model(str(PRETRAINED))[1] == written      # the old two-value form still works


def test_cleaned_settings_can_always_be_formatted():
    """Whatever a file holds, every number kept formats with :g and every name is hashable text."""
    rng = np.random.default_rng(0)
    odd = ["fast", ["x"], {"a": 1}, None, True, -5, 0, 1, 0.5, 2**70, 1e300, float("nan"), "momentum", ""]
    keys = ["lr", "lr_decay", "momentum", "l2", "batch_size", "epochs", "seed", "optimizer", "activation",
            "loss", "test_accuracy", "dataset", "shuffle", "init_scale", "augment", "val_fraction", "sizes"]
    for _ in range(300):
        raw = {k: odd[rng.integers(len(odd))] for k in rng.choice(keys, size=5, replace=False)}
        settings, notes = clean_settings(raw)
        assert len(settings) + len(notes) == len(raw)
        for key, value in settings.items():
            if key in ("optimizer", "activation", "loss", "dataset"):
                assert isinstance(value, str) and hash(value) is not None
            elif key not in ("shuffle", "sizes"):
                assert np.isfinite(float(f"{value:g}"))


def test_settings_that_are_not_an_object_are_refused():
    assert "JSON object" in refused(npz({**small_arrays(), "settings": np.array("[1, 2]")}))


# ------------------------------------------------------------ bug 6: huge weights

@pytest.mark.parametrize("value, dtype", [(1e300, np.float64), (1e30, np.float32), (-1e30, np.float32),
                                          (MAX_ABS_PARAM * 10, np.float32)])
def test_huge_weights_are_refused(value, dtype):
    arrays = small_arrays()
    W1 = arrays["W1"].astype(dtype)
    W1[3, 4] = value
    assert np.isfinite(W1).all()                          # finite as stored: the old check let it through
    assert "W1" in refused(npz({**arrays, "W1": W1}))


def test_large_but_sane_float64_weights_load_as_float32():
    arrays = small_arrays()
    W0 = arrays["W0"].astype(np.float64)
    W0[0, 0] = MAX_ABS_PARAM / 2
    net, _ = load_model(npz({**arrays, "W0": W0}))
    assert net.weights[0].dtype == np.float32 and net.weights[0][0, 0] == MAX_ABS_PARAM / 2


# ------------------------------------------------------------ fuzzing

def test_corrupted_files_load_cleanly_or_raise_model_file_error():
    net = Network([20, 6, 3], seed=0)                      # small: most bytes are headers, not weights
    plain = model_to_bytes(net, {"lr": 0.1, "epochs": 3})
    compressed = npz(model_arrays(net, {"lr": 0.1}), compressed=True)
    for loaded in fuzz_loads(plain, compressed, n=300, seed=11):
        for l, (W, b) in enumerate(zip(loaded.weights, loaded.biases)):
            assert W.dtype == np.float32 and W.shape == (loaded.sizes[l + 1], loaded.sizes[l])
            assert b.dtype == np.float32 and b.shape == (loaded.sizes[l + 1],)
            assert np.isfinite(W).all() and np.isfinite(b).all()
            assert np.abs(W).max() <= MAX_ABS_PARAM and np.abs(b).max(initial=0) <= MAX_ABS_PARAM
        assert loaded.predict(np.ones((2, loaded.sizes[0]), np.float32)).shape == (2,)


# ------------------------------------------------------------ the Inside page

def test_analysis_raises_a_clear_error_when_the_numbers_overflow():
    net = Network([784, 16, 10], seed=0)
    net.weights = [np.full_like(W, 1e30) for W in net.weights]
    x = np.random.default_rng(0).random((50, 784), dtype=np.float32)
    with pytest.raises(analysis.AnalysisError, match="overflow"):
        analysis.layer_values(net, x)
    with pytest.raises(analysis.AnalysisError, match="overflow"):
        analysis.accuracy_under_rotation(net, x, np.zeros(50, int), [0, 10])
    with pytest.raises(analysis.AnalysisError):
        analysis.pca_2d(np.full((5, 3), np.inf))
    with pytest.raises(analysis.AnalysisError):
        analysis.pca_2d(np.array([[1e200, 0.0], [-1e200, 1.0], [0.0, 2.0]]))   # finite, but squares overflow


def inside_page_with(net):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.session_state["model"] = net
    at.session_state["model_info"] = {"label": "your model"}
    at.switch_page("app_pages/7_inside.py")
    at.run()
    return at


def test_inside_page_explains_a_model_whose_numbers_overflow(sample_only):
    net = Network([784, 32, 10], seed=1)
    net.weights = [np.full_like(W, 1e30) for W in net.weights]     # allowed in memory, never from a file
    at = inside_page_with(net)
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 3, errors                    # the digit, the PCA map, the robustness curves
    assert all("overflow" in e for e in errors)
    assert any("Looking inside **your model**" in i.value for i in at.info)


def test_inside_page_draws_a_model_with_all_zero_weights(sample_only):
    net = Network([784, 32, 10], seed=1)
    net.weights = [np.zeros_like(W) for W in net.weights]           # every image maps to one point
    net.biases = [np.zeros_like(b) for b in net.biases]
    at = inside_page_with(net)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="in_pca_layer") is not None
