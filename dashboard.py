"""Digits from Scratch: start with `streamlit run dashboard.py`.

This file sets up the app (title, icon, navigation) and holds the Home page.
Each other page lives in app_pages/ and is listed here in teaching order.
"""
import os

# One BLAS thread per training session: on a shared classroom server many
# sessions train at once, and threads fighting over 2 cores are 5-10x slower.
# (Must be set before NumPy is first imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import streamlit as st  # noqa: E402

from engine.data import DataError, default_cache_dir, download_mnist
from engine.modelfile import clean_settings
from ui import keep, presenter, state, training

st.set_page_config(page_title="Digits from Scratch", page_icon="🔢", layout="wide")


OPTIMIZER_NAMES = {"sgd": "plain gradient descent (SGD)", "momentum": "SGD with momentum", "adam": "Adam"}
PAGE_GUIDE = [
    ("app_pages/1_dataset.py", "Dataset: images become numbers", "🖼️",
     "How a 28×28 picture becomes 784 numbers, and the whole dataset one big matrix."),
    ("app_pages/2_one_hot.py", "One-hot encoding", "🎯",
     "Why the label 3 is written [0, 0, 0, 1, 0, …]: one target per output neuron."),
    ("app_pages/3_how_it_learns.py", "How it learns", "🧠",
     "One step on one image: forward, loss, backward (blame) and the update (learning)."),
    ("app_pages/4_train.py", "Train", "🏋️", "Train your own network here and watch the loss fall."),
    ("app_pages/5_evaluate.py", "Evaluate", "📊", "How good is it? Accuracy, confusions and its mistakes."),
    ("app_pages/6_draw.py", "Draw", "✏️", "Draw a digit and see what the network thinks."),
    ("app_pages/7_inside.py", "Inside the network", "🔬",
     "What the hidden units respond to, how digits separate layer by layer, and where the network breaks."),
    ("app_pages/8_compare.py", "Compare runs", "⚖️", "Your runs side by side: which setting made the difference?"),
]


def settings_text(settings):
    """How a model was trained, in words, from its settings dict.

    The settings may come from an uploaded file or an old session, so only the
    values of the right type and range are used (clean_settings drops the
    others): an odd value is left out instead of breaking the Home page.
    """
    settings, _ = clean_settings(settings)
    if not settings:
        return "training settings unknown"
    opt = settings.get("optimizer")
    parts = [OPTIMIZER_NAMES.get(opt, opt or "unknown optimiser")]
    if "lr" in settings:
        parts.append(f"learning rate {settings['lr']:g}")
    if opt == "momentum" and "momentum" in settings:
        parts.append(f"momentum {settings['momentum']:g}")
    if "batch_size" in settings:
        parts.append(f"mini-batches of {settings['batch_size']}")
    if "epochs" in settings:
        parts.append(f"{settings['epochs']} epochs")
    if settings.get("l2"):
        parts.append(f"L2 {settings['l2']:g}")
    return ", ".join(parts)


def _use_folder():
    """The folder box changed: try the new folder, keep the old data if it does not work."""
    folder = st.session_state["data_dir_input"].strip()
    # Try it before keeping it: a folder kept first and failing later would break
    # every page of this session. Any name a student can type must end here, in a
    # message, so OS, path and value errors are caught as well as DataError.
    try:
        data = state.dataset_in(folder)
    except (DataError, OSError, RuntimeError, ValueError) as e:
        reason = str(e) if isinstance(e, DataError) else (getattr(e, "strerror", None) or str(e))
        reason = reason.rstrip(".")
        if len(reason) > 300:           # one sentence, not a screenful
            reason = reason[:300] + "…"
        st.session_state["home_msg"] = ("error", f"That folder cannot be used: {reason}. "
                                                 "The data loaded before is still in use.")
    else:
        st.session_state["data_dir"] = folder
        st.session_state["home_msg"] = ("success", f"Now using: {data.source}.")


def _download_full_mnist():
    """Download the four official files with a progress bar, then switch to them."""
    bar = st.progress(0.0, text="Connecting…")
    shown = {"pct": -1}

    def progress(name, done, total):
        pct = int(100 * done / total) if total else 0
        if pct != shown["pct"]:        # one update per percent is plenty
            shown["pct"] = pct
            size = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
            bar.progress(pct / 100, text=f"{name}: {size}")

    try:
        download_mnist(progress=progress)
    except (DataError, OSError) as e:
        bar.empty()
        st.session_state["home_msg"] = ("error", f"Download failed: {e}")
        st.rerun()
    bar.empty()
    st.session_state["data_dir"] = ""     # use the downloaded copy (found in the cache)
    state.reload_dataset()
    try:
        data = state.dataset()
    except DataError as e:
        st.session_state["home_msg"] = ("error", f"Downloaded, but the files cannot be read: {e}")
    else:
        st.session_state["home_msg"] = ("success", f"Downloaded. Now using: {data.source}.")
    st.rerun()


def _is_sample(source):
    """True if a dataset's description names the built-in sample (see engine/data.py load_sample)."""
    return str(source).startswith("built-in sample")


def _accuracy_help(where, data):
    """Where a model's test accuracy was measured, and whether the data loaded now differs."""
    if not where:
        return "Measured on a test set that was not recorded."
    text = f"Measured on the test images of {where}"
    # Sample or full set is what changes the figure; two copies of the full set are the same data.
    if data is not None and _is_sample(where) != data.is_sample:
        return (f"{text} when it was tested; the data loaded now is {data.source}, "
                "so the Evaluate page may show a different figure.")
    return text + "."


def _restore_folder_box():
    """Streamlit drops a widget's value while another page is shown: put the folder in use
    back into the box (only once it was dropped, so what the student typed stays)."""
    st.session_state.setdefault("data_dir", "")
    if "data_dir_input" not in st.session_state:
        st.session_state["data_dir_input"] = st.session_state["data_dir"]


def home():
    st.title("🔢 Digits from Scratch")
    st.write("See how a small neural network, a multi-layer perceptron written from scratch in plain NumPy "
             "(no deep-learning library), learns to read handwritten digits from the MNIST dataset. "
             "Follow the pages in order: look at the data, watch one learning step in slow motion, then "
             "train your own network, test it, and try it on digits you draw.")

    try:
        data = state.dataset()
    except DataError as e:
        data = None
        st.error(f"The dataset could not be loaded: {e}")

    c1, c2 = st.columns(2, gap="large")
    with c1.container(border=True):
        st.subheader("📦 Data")
        if data is not None:
            st.markdown(f"**{data.source}**")
            st.write(f"{len(data.y_train):,} training images and {len(data.y_test):,} test images, "
                     "28×28 pixels each.")
            if data.is_sample:
                st.caption(f"A small but balanced sample, so the app works offline. Why not the full set: "
                           f"{data.note or 'not requested'}. See *Get the full MNIST* below.")
    with c2.container(border=True):
        st.subheader("🧠 Current model")
        net, info = state.user_model()
        if net is not None:
            info = info or {}
            settings = info.get("settings") or {}
            accuracy = info.get("test_accuracy", settings.get("test_accuracy"))
            # Where that accuracy was measured: the session measured info's on info["source"]
            # (an upload's file may say it was trained elsewhere); else the file's own word.
            where = info.get("source") if "test_accuracy" in info else settings.get("dataset")
            st.markdown(f"**{info.get('label', 'Your model')}**: {net.describe()}")
            if info.get("source"):
                st.caption(f"From: {info['source']}")
        else:
            net, settings = state.pretrained_model()
            accuracy = settings.get("test_accuracy")
            where = settings.get("dataset")
            st.markdown(f"**The built-in pretrained model**: {net.describe()}")
            st.caption("Used until you train or load your own on the Train page.")
        st.write(f"{net.n_params():,} weights and biases. Trained with {settings_text(settings)}.")
        if accuracy is not None:
            st.metric("Test accuracy", f"{float(accuracy):.1%}", help=_accuracy_help(where, data))

    st.header("The pages")
    for path, title, icon, line in PAGE_GUIDE:
        link, text = st.columns([1.2, 3], vertical_alignment="center")
        link.page_link(path, label=title, icon=icon)
        text.write(line)

    msg = st.session_state.pop("home_msg", None)
    full = data is not None and not data.is_sample
    with st.expander("📥 Get the full MNIST (70,000 digits)", expanded=msg is not None):
        if msg:
            (st.error if msg[0] == "error" else st.success)(msg[1])
        if full:
            st.write(f"The full set is loaded: {data.source}.")
        st.write("Already have the MNIST files? Type the folder holding the four files "
                 "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                 "t10k-labels-idx1-ubyte, raw or .gz) or a mnist.npz, then press Enter.")
        _restore_folder_box()
        st.text_input("MNIST folder", key="data_dir_input", on_change=_use_folder,
                      placeholder="e.g. ~/data/mnist  (leave empty for the automatic choice)")
        if not full:
            st.write(f"Or download the four official files (about 11 MB) into {default_cache_dir()}; "
                     "they are checked before use and found automatically next time.")
            if st.button("Download full MNIST", key="download_mnist", icon="📥"):
                _download_full_mnist()


pages = [
    st.Page(home, title="Home", icon="🏠", default=True),
    st.Page("app_pages/1_dataset.py", title="Dataset: images become numbers", icon="🖼️"),
    st.Page("app_pages/2_one_hot.py", title="One-hot encoding", icon="🎯"),
    st.Page("app_pages/3_how_it_learns.py", title="How it learns", icon="🧠"),
    st.Page("app_pages/4_train.py", title="Train", icon="🏋️"),
    st.Page("app_pages/5_evaluate.py", title="Evaluate", icon="📊"),
    st.Page("app_pages/6_draw.py", title="Draw", icon="✏️"),
    st.Page("app_pages/7_inside.py", title="Inside the network", icon="🔬"),
    st.Page("app_pages/8_compare.py", title="Compare runs", icon="⚖️"),
]
presenter.presenter_toggle()            # sidebar switch on every page (ui/presenter.py)
training.sync()                         # a run that ended in its thread is recorded before any page draws
with st.sidebar:
    browser = keep.browser_key()        # this browser's own key (ui/keep.py): nothing lost on reload
keep.offer(browser)                     # "Welcome back": restore what this browser left here
page = st.navigation(pages)
page.run()
if page.url_path != "train":            # a run in progress trains on, shown in the sidebar
    training.sidebar_panel()            # (the Train page draws its own live panel)
keep.remember(browser)
