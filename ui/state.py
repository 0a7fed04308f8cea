"""Session state and caching, in one place.

Shared and read-only (one copy per server process, st.cache_resource):
    the dataset, the built-in pretrained models (the MLP and the CNN).
Per browser session (st.session_state), never shared:
    the user's model, trainer and runs.
"""
import os
from pathlib import Path

import streamlit as st

from engine.analysis import fingerprint
from i18n import _
from engine.data import DataError, load_mnist
from engine.network import Network
from engine.modelfile import load_model
from ui.formats import PRETRAINED_LABEL

ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "engine" / "models" / "pretrained.npz"
PRETRAINED_CNN = ROOT / "engine" / "models" / "pretrained_cnn.npz"


# max_entries: every differently spelled folder is a new entry (55 MB for the full set),
# so a session typing many names must not be able to fill the server's memory.
@st.cache_resource(show_spinner=False, max_entries=4)      # (its spinner is dataset_in's, in the run's language)
def _dataset(data_dir):
    data = load_mnist(data_dir=data_dir or None, download=False)
    for arr in (data.x_train, data.y_train, data.x_test, data.y_test, data.test_float()):
        arr.flags.writeable = False   # shared by every session: nobody may change it
    return data


def dataset():
    """The loaded MNIST (full copy if one is found, else the built-in sample)."""
    return dataset_in(st.session_state.get("data_dir", ""))


def dataset_in(folder):
    """The dataset in `folder` ("" = the automatic choice), loaded and cached but not made
    the session's: the Home page tries a folder with it before keeping it."""
    with st.spinner(_("Loading MNIST…")):          # shown only if it takes over half a second (not cached yet)
        return _dataset(folder or os.environ.get("MNIST_DIR", ""))


def dataset_or_stop():
    """The dataset; if it cannot be loaded, say why on the page and stop the page there."""
    try:
        return dataset()
    except DataError as e:
        st.error(_("The dataset could not be loaded: {reason}").format(reason=e))
        st.stop()


def reload_dataset():
    """Forget the cached dataset (after a download or a new folder setting)."""
    _dataset.clear()


@st.cache_resource(show_spinner=False)
def _cached_built_in(path):
    net, settings = load_model(str(path))
    for p in net.params():
        p.flags.writeable = False     # shared by every session: used for prediction only
    return net, settings


def _built_in(path):
    with st.spinner(_("Loading a built-in model…")):
        return _cached_built_in(path)


def pretrained_model():
    """(net, settings) of the built-in model. Read-only: copy it before training."""
    return _built_in(PRETRAINED)


def pretrained_cnn():
    """(net, settings) of the built-in convolutional network (scripts/train_pretrained_cnn.py).
    Read-only: copy it before training."""
    return _built_in(PRETRAINED_CNN)


def user_model():
    """The session's own model: (net, info dict) or (None, None) before any training/upload."""
    return st.session_state.get("model"), st.session_state.get("model_info")


def set_user_model(net, info):
    """Make `net` the session's current model. info: dict (source, settings, test_accuracy...)."""
    st.session_state["model"] = net
    st.session_state["model_info"] = info


def active_model(mlp_only=False):
    """The model the teaching pages use: the user's own if any, else the pretrained one.

    Returns (net, label) where label says which it is. mlp_only: for the pages that
    take an MLP apart layer by layer (How it learns): a
    convolutional network of the user's is left aside there, with a note on the page.
    """
    net, info = user_model()
    if net is not None and (not mlp_only or isinstance(net, Network)):
        return net, info.get("label", _("your model"))
    if net is not None:
        st.info(_("Your model is a convolutional network (CNN). This page takes a multi-layer perceptron "
                  "apart layer by layer, so it shows the built-in MLP; the other pages use your CNN."), icon="ℹ️")
    net = pretrained_model()[0]
    return net, _(PRETRAINED_LABEL)

def model_key(net):
    """A fingerprint of the model's weights (engine.analysis.fingerprint), for caching results per model.
    Worked out once per model object and session (hashing a big model's weights on every rerun would cost
    time); the session keeps the last few, so a page that shows several models hashes none again."""
    held = st.session_state.setdefault("model_keys", {})
    hit = held.get(id(net))
    if hit is None or hit[0] is not net:          # the object is kept with its key: its id is not reused
        while len(held) >= 4:
            held.pop(next(iter(held)))
        hit = held[id(net)] = (net, fingerprint(net))
    return hit[1]
