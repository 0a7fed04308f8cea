"""Same network in PyTorch: each engine idea next to the PyTorch lines that do it, then the session's
model and its PyTorch twin computing the same numbers (when PyTorch is installed)."""
import streamlit as st

from bridge import twin
from bridge.side_by_side import STEPS
from i18n import _
from ui import model_picker, notebook_button, pages, pytorch_twin

st.title(pages.title("pytorch"))
st.write(_("Everything you built here by hand is what PyTorch does for you. Below, each idea of our NumPy engine "
           "sits next to the PyTorch lines that do the same. Then your network is copied into PyTorch and both "
           "are run side by side: the same numbers, to float32 rounding."))

# ------------------------------------------------------------------ side by side
for i, step in enumerate(STEPS, 1):
    st.header(f"{i}. {_(step.title)}")    # h2 under the title: no skipped level for a screen reader
    st.markdown(_(step.text))
    left, right = st.columns(2)
    left.caption(_("Our NumPy engine"))
    left.code(step.engine, language="python", wrap_lines=True)
    right.caption(_("PyTorch"))
    right.code(step.torch, language="python", wrap_lines=True)
st.caption(_("Every snippet runs as shown: the engine's one after the other, and PyTorch's one after the other "
             "(the project's tests run both)."))

# ------------------------------------------------------------------ the twin
st.divider()
st.header(_("Your network and its PyTorch twin"))
if not twin.torch_available():
    pytorch_twin.no_torch_note()
else:
    net, name = model_picker.pick_model("pytorch_use_mine")
    st.markdown(_("Compare {model} with its PyTorch twin: one batch through both (logits, loss and every "
                  "gradient), then both train the same mini-batches from the same weights.").format(model=name))
    st.number_input(_("Mini-batches to train"), 1, twin.MAX_BATCHES, 50, step=10, key="pytorch_batches",
                              help=_("Both train this many mini-batches of your run's batch size (at most one "
                                     "epoch), with your run's optimiser and learning rate."))
    st.button(_("Run the comparison"), key="pytorch_run", icon=":material/compare_arrows:", type="primary",
              on_click=pytorch_twin.ask, args=("pytorch_batches",))
    result = pytorch_twin.result(net, name)
    if result:
        pytorch_twin.show(result)

st.divider()
st.markdown(_("**Take it home**: your current run as a Jupyter notebook, NumPy first, then PyTorch."))
notebook_button.download_button("pytorch_notebook")
