"""The language model in PyTorch: the engine's transformer code next to its PyTorch twin's, then a small
transformer and its twin computing the same numbers (when PyTorch is installed), and a notebook to take home."""
import streamlit as st

from bridge import twin
from i18n import _
from ui import pages, pytorch_twin
from ui.language import pytorch, texts

st.title(pages.title("pytorch_language"))
st.write(_("The transformer you can train here, written once more with PyTorch's modules. Below, each part of our "
           "NumPy engine (its real code) sits next to the PyTorch lines of the twin that does the same. Then a "
           "transformer is copied into PyTorch with the same weights and both are run side by side."))
for i, step in enumerate(pytorch.STEPS, 1):
    st.header(f"{i}. {_(step.title)}")
    st.markdown(_(step.text))
    left, right = st.columns(2)
    code, where = pytorch.engine_code(step)
    left.caption(_("Our NumPy engine: {where}").format(where=where))
    left.code(code, language="python", wrap_lines=True)
    right.caption(_("PyTorch (bridge/language_twin.py)"))
    right.code(step.torch, language="python", wrap_lines=True)

st.divider()
st.header(_("A transformer and its PyTorch twin"))
label, prepared = texts.choose_text()
settings = pytorch.knobs()
if not twin.torch_available():
    pytorch_twin.no_torch_note()
else:
    st.markdown(_("The transformer and its PyTorch twin: one batch through both (logits, loss and the gradient of "
                  "every weight array), then both train on the same windows from the same weights."))
    entry, name = pytorch.pick_model(settings)
    if st.button(_("Run the comparison"), key="lmpt_run", icon=":material/compare_arrows:", type="primary"):
        with st.spinner(_("Running both…")):
            pytorch.run(prepared, settings, label, entry)
    result = st.session_state.get(pytorch.KEY)
    if result:
        pytorch.show(result)

st.divider()
corpus = st.session_state.get(texts.CHOICE)
home = pytorch.notebook_run(settings, corpus if corpus in texts.ABOUT else None)     # the session's run, if any
st.markdown(home["words"])
pytorch.download_button("lmpt_notebook", home["settings"], home["corpus"], home["steps"], home["app_loss"])
