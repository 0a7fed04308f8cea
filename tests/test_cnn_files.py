"""Model files of layer stacks (format version 2, CNNs): they round-trip, and hostile ones are refused.

Every refusal must be a ModelFileError with a sentence naming the file (never another exception,
never a model that crashes later), and the version-1 files (MLPs, the built-in model) load as before.
"""
import io
import json
from pathlib import Path

import numpy as np
import pytest

from engine.convnet import ConvNet, cnn_spec
from engine.modelfile import (CNN_FORMAT_VERSION, FORMAT_VERSION, MAX_ABS_PARAM, ModelFileError, load_model,
                              load_model_with_notes, model_arrays, model_to_bytes, save_model)
from engine.network import Network
from model_file_utils import fuzz_loads, npz
from engine.trainer import Settings

ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "engine" / "models" / "pretrained.npz"
SPEC = cnn_spec(filters=(2, 3), k=3, pool=2)           # conv 2@3x3 - relu - pool - conv 3@3x3 - relu - pool - dense 10


def small_cnn(seed=0):
    return ConvNet(SPEC, seed=seed)


def arrays(**changes):
    """The arrays of a small CNN's file, with some replaced (None removes one)."""
    out = model_arrays(small_cnn(), {"lr": 0.1, "layers": SPEC})
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


def with_layers(spec):
    return arrays(layers=np.array(spec if isinstance(spec, str) else json.dumps(spec)))


def refused(content):
    with pytest.raises(ModelFileError) as err:
        load_model(content, name="upload.npz")
    assert str(err.value).startswith("upload.npz")
    return str(err.value)


X = np.random.default_rng(3).random((6, 784)).astype(np.float32)


# ------------------------------------------------------------ round trips

def test_a_cnn_round_trips_with_the_same_predictions(tmp_path):
    net = small_cnn(seed=5)
    settings = Settings(layers=SPEC, optimizer="adam", lr=0.003)
    path = tmp_path / "cnn.npz"
    save_model(path, net, settings.as_dict())
    loaded, got = load_model(path)
    assert isinstance(loaded, ConvNet) and loaded.spec() == net.spec()
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert all(p.dtype == np.float32 for p in loaded.params())
    assert got["layers"] == SPEC and got["optimizer"] == "adam"
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.npz"]          # atomic: no temporary left behind
    with np.load(path) as f:
        assert int(f["format_version"]) == CNN_FORMAT_VERSION and str(f["kind"]) == "digits-from-scratch-cnn"
        assert f["input_shape"].dtype == np.int64 and list(f["input_shape"]) == [1, 28, 28]
        assert f["W0"].shape == (2, 1, 3, 3)                              # convolution weights stay 4-D


def test_bytes_and_notes_for_a_cnn():
    net, settings, notes = load_model_with_notes(model_to_bytes(small_cnn(), {"lr": 0.1, "colour": "red"}))
    assert isinstance(net, ConvNet) and settings == {"lr": 0.1} and notes == ["unknown setting 'colour' ignored"]


def test_mlps_are_still_saved_as_version_1_and_the_builtin_model_loads():
    with np.load(io.BytesIO(model_to_bytes(Network([784, 8, 10])))) as f:
        assert int(f["format_version"]) == FORMAT_VERSION and str(f["kind"]) == "digits-from-scratch-mlp"
    net, _ = load_model(PRETRAINED)
    assert isinstance(net, Network) and net.sizes[0] == 784 and net.sizes[-1] == 10


# ------------------------------------------------------------ hostile files

W_WRONG = np.zeros((2, 1, 5, 5), np.float32)


@pytest.mark.parametrize("content,words", [
    (with_layers({"kind": "flatten"}), "must be a list"),
    (with_layers("not json ["), "not valid JSON"),
    (with_layers([]), "must be a list of 1 to"),
    (with_layers([{"kind": "lstm", "units": 10}]), "unknown kind 'lstm'"),
    (with_layers([{"kind": "conv2d", "filters": 10 ** 9, "k": 5}] + cnn_spec(filters=())), "more than 20,000,000"),
    (with_layers([{"kind": "conv2d", "filters": 2, "k": 3, "p": 3}] + cnn_spec(filters=())), "padding 3 must be"),
    (with_layers([{"kind": "conv2d", "filters": -2, "k": 3}] + cnn_spec(filters=())), "at least 1"),
    (with_layers([{"kind": "maxpool2d", "size": -1}] + cnn_spec(filters=())), "at least 1"),
    (with_layers([{"kind": "conv2d", "filters": True, "k": 3}] + cnn_spec(filters=())), "must be a list"),
    (with_layers([{"kind": "conv2d", "filters": "8", "k": 3}] + cnn_spec(filters=())), "whole number"),
    (with_layers([{"kind": "conv2d", "filters": 2.0, "k": 3}] + cnn_spec(filters=())), "must be a list"),
    (with_layers([{"kind": "conv2d", "filters": [2], "k": 3}] + cnn_spec(filters=())), "must be a list"),
    (with_layers([{"kind": "conv2d", "filters": 2, "k": 3, "colour": 1}] + cnn_spec(filters=())), "must be a list"),
    (with_layers("[" * 100_000 + "]" * 100_000), "characters long"),
    (with_layers("[" * 5000 + "]" * 5000), "nested too deeply|must be a list"),
    (with_layers(cnn_spec(filters=(2,), k=3, n_classes=7)), "7 outputs"),
    (with_layers(cnn_spec(filters=(2,), k=3)[:-1]), "last layer must be a dense"),
    (with_layers([{"kind": "conv2d", "filters": 1, "k": 199, "p": 198}] + cnn_spec(filters=())),
     "padding 198 is larger than its 28×28 input"),
    # Issue 21, item 5: every size bounded by what makes sense for a 28x28 input.
    (with_layers([{"kind": "conv2d", "filters": 2, "k": 3, "s": 10 ** 30}] + cnn_spec(filters=())),
     "stride 1,000,000,000,000,000,000,000,000,000,000 is larger than its 28×28 input"),
    (with_layers([{"kind": "conv2d", "filters": 2, "k": 3, "s": 29}] + cnn_spec(filters=())),
     "stride 29 is larger than its 28×28 input"),
    (with_layers([{"kind": "conv2d", "filters": 2, "k": 3}, {"kind": "maxpool2d", "size": 2, "stride": 27}]
                 + cnn_spec(filters=())), "stride 27 is larger than its 26×26 input"),
    (with_layers([{"kind": "maxpool2d", "size": 29, "stride": 1}] + cnn_spec(filters=())),
     "pooling window 29 is larger than its 28×28 input"),
    # Issue 21, item 3: the file at the old loader's limit (a conv 170@30x30 with padding 29, then a
    # 29x29 max-pool) loaded, and took 20-60 s in every explanation panel.
    (with_layers([{"kind": "conv2d", "filters": 170, "k": 30, "p": 29, "s": 1},
                  {"kind": "maxpool2d", "size": 29, "stride": 1}] + cnn_spec(filters=())),
     "padding 29 is larger than its 28×28 input"),
    (with_layers([{"kind": "conv2d", "filters": 170, "k": 28, "p": 27, "s": 1},
                  {"kind": "maxpool2d", "size": 28, "stride": 1}] + cnn_spec(filters=())),
     r"too big for this app: one image would take 2,899 million operations"),
    # Within every shape limit and the peak memory, but 268 MFLOP an image: over the budget.
    (with_layers(cnn_spec(filters=(32, 64), k=9, p=4, pool=1)),
     r"too big for this app: one image would take [\d,]+ million operations \(MFLOP\); at most 40 are"),
    (arrays(W0=W_WRONG), "'W0' has shape"),
    (arrays(W0=np.full((2, 1, 3, 3), np.nan, np.float32)), "NaN"),
    (arrays(b1=np.full(3, 1e30)), "above 1,000,000"),
    (arrays(b1=np.full(3, 1e300)), "NaN or infinite"),
    (arrays(W2=np.zeros((10, 12), np.int64)), "dtype int64"),
    (arrays(W2=None), "'W2' is missing"),
    (arrays(W3=np.zeros((10, 10), np.float32)), "unexpected arrays W3"),
    (arrays(layers=None), "'layers' is missing"),
    (arrays(kind=np.array("digits-from-scratch-mlp")), "must be of kind"),
    (arrays(input_shape=np.array([1, 28], np.int64)), "input_shape"),
    (arrays(input_shape=np.array([1, -28, 28], np.int64)), "at least 1"),
    (arrays(input_shape=np.array([1.0, 28, 28])), "input_shape"),
    (arrays(input_shape=np.array([1, 10 ** 6, 10 ** 6], np.int64)), "at most"),
    (arrays(loss=np.array("hinge")), "unknown loss"),
    (arrays(layers=np.array(3)), "text value"),
])
def test_hostile_cnn_files_are_refused(content, words):
    import re
    assert re.search(words, refused(npz(content))), refused(npz(content))


def test_pickled_object_arrays_are_refused():
    content = arrays(W0=np.array([{"evil": 1}, None], dtype=object))
    assert "pickled" in refused(npz(content))


def test_a_cnn_weight_of_1e30_is_refused_and_a_sane_float64_loads():
    W0 = small_cnn().weights[0].astype(np.float64)
    W0[0, 0, 0, 0] = 1e30
    assert "above" in refused(npz(arrays(W0=W0)))
    W0[0, 0, 0, 0] = MAX_ABS_PARAM / 2
    net, _ = load_model(npz(arrays(W0=W0)))
    assert net.weights[0].dtype == np.float32 and net.weights[0][0, 0, 0, 0] == MAX_ABS_PARAM / 2


# ------------------------------------------------------------ fuzzing

def test_corrupted_cnn_files_load_cleanly_or_raise_model_file_error():
    for net in fuzz_loads(npz(arrays()), npz(arrays(), compressed=True), n=200, seed=13):
        for p in net.params():
            assert p.dtype == np.float32 and np.isfinite(p).all() and np.abs(p).max(initial=0) <= MAX_ABS_PARAM
        assert net.predict(X[:2]).shape == (2,) and net.sizes[-1] == 10


@pytest.mark.parametrize("content, words", [
    (with_layers(cnn_spec(filters=(8, 8, 8), k=9, pool=4)),
     "strato 4 (conv 8@9x9) non ha più niente su cui lavorare: il suo ingresso è di soli 5×5 pixel"),
    (with_layers([{"kind": "conv2d", "filters": 2, "k": 3, "s": 29}] + cnn_spec(filters=())),
     "il suo valore di passo (stride), 29, è più grande del suo ingresso di 28×28"),
    (with_layers([{"kind": "conv2d", "filters": 10 ** 9, "k": 5}] + cnn_spec(filters=())), "più di 20.000.000 pesi"),
    (arrays(b1=np.full(3, 1e30)), "pesi e bias oltre 1.000.000 sono rifiutati"),
    (arrays(W2=None), "manca 'W2' per dense 10"),
])
def test_a_broken_cnn_file_is_refused_in_the_pages_language(content, words):
    """A student on an Italian page who uploads a broken file reads why in Italian (these sentences were English)."""
    import i18n
    i18n.use("it")
    try:
        message = refused(npz(content))
    finally:
        i18n.use(i18n.SOURCE)
    assert words in message, message
