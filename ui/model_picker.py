"""Which model a page works with: the session's own (trained or loaded) or the built-in pretrained one."""
import streamlit as st

from i18n import _, as_is
from ui import state
from ui.formats import PRETRAINED_LABEL


def pick_model(key):
    """Once the session has a model of its own, a "Use my model" toggle (widget key `key`,
    on at first) chooses between it and the pretrained model; before, it is the pretrained one.

    Returns (net, name): name is markdown naming the model and, unless its label
    says so already, its layers."""
    own = state.user_model()[0]
    if own is not None and not st.toggle(_("Use my model"), value=True, key=key,
                                         help=_("On: your latest trained or loaded model. "
                                                "Off: the built-in pretrained model.")):
        net, label = state.pretrained_model()[0], _(PRETRAINED_LABEL)
    else:
        net, label = state.active_model()      # the session's own model if it has one
    about = "" if net.describe() in label else f" ({as_is(net.describe())})"
    return net, f"**{label}**{about}"
