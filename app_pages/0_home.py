"""Home: what the app is, which data is loaded, the current model, a guide to the pages
and the full MNIST (typed folder or download)."""
import streamlit as st

from engine.convnet import ConvNet
from engine.data import DataError, default_cache_dir
from i18n import _, num
from ui import data_source, handouts, pages, run_names, state
from ui.formats import PRETRAINED_LABEL


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


def _kind(net):
    """'an MLP' or 'a CNN', in words a student meets on the pages."""
    return "a CNN (convolutional network)" if isinstance(net, ConvNet) else "an MLP (multi-layer perceptron)"


def _model_name(label, net):
    """The model's label without its architecture in brackets (it is printed once, after the name)."""
    name = label.replace(f" ({net.describe()})", "")
    return name[:1].upper() + name[1:]


st.title(pages.title("home"))
st.write("See how neural networks written from scratch in plain NumPy (no deep-learning library) learn to read "
         "handwritten digits from the MNIST dataset. Two kinds are built here, layer by layer: a **multi-layer "
         "perceptron (MLP)**, where every pixel has its own weight to every unit of the next layer, and a "
         "**convolutional network (CNN)**, whose small filters slide over the whole image with the same weights "
         "everywhere. Follow the pages in order: look at the data, watch one learning step in slow motion, see a "
         "filter slide, then train your own network, test it, try it on digits you draw, and see what moving a digit "
         "by a few pixels does to each kind. The last page builds the same network in **PyTorch**, the library "
         "used for real work, and shows that it computes the same numbers (to float32 rounding).")

try:
    data = state.dataset()
except DataError as e:
    data = None
    st.error(f"The dataset could not be loaded: {e}")

c1, c2 = st.columns(2, gap="large")
with c1.container(border=True):
    st.header("📦 Data")
    if data is not None:
        st.markdown(f"**{data.source}**")
        st.write(f"{len(data.y_train):,} training images and {len(data.y_test):,} test images, "
                 "28×28 pixels each.")
        if data.is_sample:
            st.caption(f"A small but balanced sample, so the app works offline. Why not the full set: "
                       f"{data.note or 'not requested'}. See *Get the full MNIST* below.")
with c2.container(border=True):
    st.header("🧠 Current model")
    net, info = state.user_model()
    if net is not None:
        info = info or {}
        settings = info.get("settings") or {}
        accuracy = info.get("test_accuracy", settings.get("test_accuracy"))
        # Where that accuracy was measured: the session measured info's on info["source"]
        # (an upload's file may say it was trained elsewhere); else the file's own word.
        where = info.get("source") if "test_accuracy" in info else settings.get("dataset")
        st.markdown(f"**{_model_name(info.get('label', 'your model'), net)}**, {_kind(net)}: {net.describe()}")
        if info.get("source"):
            st.caption(f"From: {info['source']}")
    else:
        net, settings = state.pretrained_model()
        accuracy = settings.get("test_accuracy")
        where = settings.get("dataset")
        st.markdown(f"**{PRETRAINED_LABEL.capitalize()}**, {_kind(net)}: {net.describe()}")
        st.caption("Used until you train or load your own on the Train page.")
    st.write(f"{net.n_params():,} weights and biases. Trained with "
             f"{run_names.settings_text(settings, run_names.marks_of(info))}.")
    if settings.get("drawn_digits") and settings.get("drawn_epochs") and settings.get("drawn_lr"):   # docs/drawn.md
        st.caption(_("The last {k} of those epochs also on {n} synthetic digits drawn as on the Draw page, "
                     "starting at learning rate {lr}.").format(k=num(settings["drawn_epochs"]),
                                                               n=num(settings["drawn_digits"]),
                                                               lr=num(settings["drawn_lr"])))
    if accuracy is not None:
        st.metric("Test accuracy", f"{float(accuracy):.1%}", help=_accuracy_help(where, data))

st.header("The pages, in lesson order")
for section, group in pages.sections().items():       # the menu's sections (ui/pages.py)
    st.subheader(section)
    for page in group:
        if page is pages.HOME:
            continue
        link, text = st.columns([1.2, 3], vertical_alignment="center")
        pages.page_link(page.name, where=link)
        text.write(page.line)

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
    data_source.restore_folder_box()
    st.text_input("MNIST folder", key="data_dir_input", on_change=data_source.use_folder,
                  placeholder="e.g. ~/data/mnist  (leave empty for the automatic choice)")
    if not full:
        st.write(f"Or download the four official files (about 11 MB) into {default_cache_dir()}; "
                 "they are checked before use and found automatically next time.")
        if st.button("Download full MNIST", key="download_mnist", icon="📥"):
            data_source.download_full_mnist()

handouts.teacher_corner(data)     # lesson plans and the students' handouts (docs/teacher.md)
