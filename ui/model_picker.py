"""Which model a page works with: the session's own (trained or loaded) or the built-in pretrained one."""
import streamlit as st

from i18n import _
from ui import state
from ui.formats import PRETRAINED_LABEL, model_text


def pick_model(key, built_in=None):
    """Once the session has a model of its own, a "Use my model" toggle (widget key `key`,
    on at first) chooses between it and the pretrained model; before, it is the pretrained one.
    built_in: (net, label) of another built-in model to use instead of the pretrained MLP (Draw:
    the built-in CNN, its best reader of drawings).

    Returns (net, name): name is markdown naming the model and, unless its label
    says so already, its layers."""
    own = state.user_model()[0]
    if built_in is not None:
        help_text = _("On: your latest trained or loaded model. Off: {model}.").format(model=built_in[1])
    else:
        help_text = _("On: your latest trained or loaded model. Off: the built-in pretrained model.")
    if own is not None and not st.toggle(_("Use my model"), value=True, key=key, help=help_text):
        net, label = built_in or (state.pretrained_model()[0], _(PRETRAINED_LABEL))
    elif own is None and built_in is not None:
        net, label = built_in
    else:
        net, label = state.active_model()      # the session's own model if it has one
    about = "" if net.describe() in label else f" ({model_text(net)})"
    return net, f"**{label}**{about}"
