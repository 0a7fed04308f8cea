"""Home: what the app is, which data is loaded, the current model, a guide to the pages
and the full MNIST (typed folder or download)."""
import streamlit as st

from engine.convnet import ConvNet
from engine.data import DataError, default_cache_dir
from engine.modelfile import clean_settings
from i18n import _, as_is, num, pct
from ui import data_source, handouts, pages, run_names, state
from ui.formats import PRETRAINED_LABEL, model_text, note_text, source_text


def _is_sample(source):
    """True if a dataset's description names the built-in sample (see engine/data.py load_sample)."""
    return str(source).startswith("built-in sample")


def _accuracy_help(where, data):
    """Where a model's test accuracy was measured, and whether the data loaded now differs."""
    if not where:
        return _("Measured on a test set that was not recorded.")
    # Sample or full set is what changes the figure; two copies of the full set are the same data.
    if data is not None and _is_sample(where) != data.is_sample:
        return _("Measured on the test images of {where} when it was tested; the data loaded now is {now}, "
                 "so the Evaluate page may show a different figure.").format(
            where=source_text(where), now=source_text(data.source))
    return _("Measured on the test images of {where}.").format(where=source_text(where))


def _kind(net):
    """'an MLP' or 'a CNN', in words a student meets on the pages."""
    return _("a CNN (convolutional network)") if isinstance(net, ConvNet) else _("an MLP (multi-layer perceptron)")


def _model_name(label, net):
    """The model's label without its architecture in brackets (it is printed once, after the name)."""
    name = label.replace(f" ({net.describe()})", "")
    return name[:1].upper() + name[1:]


st.title(pages.title("home"))
st.write(_("See how neural networks written from scratch in plain NumPy (no deep-learning library) learn to read "
           "handwritten digits from the MNIST dataset. Two kinds are built here, layer by layer: a **multi-layer "
           "perceptron (MLP)**, where every pixel has its own weight to every unit of the next layer, and a "
           "**convolutional network (CNN)**, whose small filters slide over the whole image with the same weights "
           "everywhere. Follow the pages in order: look at the data, watch one learning step in slow motion, see a "
           "filter slide, then train your own network, test it, try it on digits you draw, and see what moving a "
           "digit by a few pixels does to each kind. Then the same network is built in **PyTorch**, the library used "
           "for real work, and shown to compute the same numbers (to float32 rounding). The last section, *From "
           "digits to words*, takes the same road with text: a language model that learns to write, character by "
           "character, up to a transformer's attention."))

try:
    data = state.dataset()
except DataError as e:
    data = None
    st.error(_("The dataset could not be loaded: {reason}").format(reason=e))

c1, c2 = st.columns(2, gap="large")
with c1.container(border=True):
    st.header("📦 " + _("Data"))
    if data is not None:
        st.markdown(f"**{source_text(data.source)}**")
        st.write(_("{n_train} training images and {n_test} test images, 28×28 pixels each.").format(
            n_train=num(len(data.y_train)), n_test=num(len(data.y_test))))
        if data.is_sample:
            st.caption(_("A small but balanced sample, so the app works offline. Why not the full set: {why}. "
                         "See *Get the full MNIST* below.").format(
                why=note_text(data.note) if data.note else _("not requested")))
with c2.container(border=True):
    st.header("🧠 " + _("Current model"))
    net, info = state.user_model()
    if net is not None:
        info = info or {}
        settings = info.get("settings") or {}
        accuracy = info.get("test_accuracy", settings.get("test_accuracy"))
        # Where that accuracy was measured: the session measured info's on info["source"]
        # (an upload's file may say it was trained elsewhere); else the file's own word.
        where = info.get("source") if "test_accuracy" in info else settings.get("dataset")
        st.markdown(_("**{name}**, {kind}: {layers}").format(
            name=_model_name(info.get("label", _("your model")), net), kind=_kind(net), layers=model_text(net)))
        if info.get("source"):
            st.caption(_("From: {source}").format(source=source_text(info["source"])))
    else:
        net, settings = state.pretrained_model()
        accuracy = settings.get("test_accuracy")
        where = settings.get("dataset")
        st.markdown(_("**{name}**, {kind}: {layers}").format(
            name=_(PRETRAINED_LABEL).capitalize(), kind=_kind(net), layers=model_text(net)))
        st.caption(_("Used until you train or load your own on the Train page."))
    st.write(_("{n} weights and biases. Trained with {how}.").format(
        n=num(net.n_params()), how=run_names.settings_text(settings, run_names.marks_of(info))))
    drawn = clean_settings(settings)[0]        # a file's values, checked (an upload may hold anything)
    if {"drawn_digits", "drawn_epochs", "drawn_lr"} <= drawn.keys():      # the built-in models (docs/drawn.md)
        st.caption(_("The last {k} of those epochs also on {n} synthetic digits drawn as on the Draw page, "
                     "starting at learning rate {lr}.").format(k=num(drawn["drawn_epochs"]),
                                                               n=num(drawn["drawn_digits"]), lr=num(drawn["drawn_lr"])))
    if accuracy is not None:
        st.metric(_("Test accuracy"), pct(accuracy, 1), help=_accuracy_help(where, data))

st.header(_("The pages, in lesson order"))
for section, group in pages.sections().items():       # the menu's sections (ui/pages.py)
    st.subheader(pages.section_name(section))
    for page in group:
        if page is pages.HOME:
            continue
        link, text = st.columns([1.2, 3], vertical_alignment="center")
        pages.page_link(page.name, where=link)
        text.write(_(page.line))

msg = st.session_state.pop("home_msg", None)
full = data is not None and not data.is_sample
with st.expander("📥 " + _("Get the full MNIST ({n} digits)").format(n=num(70000)), expanded=msg is not None):
    if msg:
        (st.error if msg[0] == "error" else st.success)(msg[1])
    if full:
        st.write(_("The full set is loaded: {source}.").format(source=source_text(data.source)))
    st.write(_("Already have the MNIST files? Type the folder holding the four files "
               "({files}, raw or .gz) or a mnist.npz, then press Enter.").format(files=as_is(
                   "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte")))
    data_source.restore_folder_box()
    st.text_input(_("MNIST folder"), key="data_dir_input", on_change=data_source.use_folder,
                  placeholder=_("e.g. {example}  (leave empty for the automatic choice)").format(
                      example=as_is("~/data/mnist")))
    if not full:
        st.write(_("Or download the four official files (about {size} MB) into {folder}; they are checked before "
                   "use and found automatically next time.").format(size=num(11), folder=as_is(default_cache_dir())))
        if st.button(_("Download full MNIST"), key="download_mnist", icon="📥"):
            data_source.download_full_mnist()

handouts.teacher_corner(data)     # lesson plans and the students' handouts (docs/teacher.md)
