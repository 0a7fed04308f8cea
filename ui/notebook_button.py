""""Download as notebook": the current run as a Jupyter notebook (bridge/notebook.py), on the Train and
PyTorch pages. The current run is the one training or last trained; before any, the Train page's settings."""
import contextvars

import streamlit as st

from bridge import notebook
from engine.trainer import Settings
import i18n
from i18n import _
from ui import state, training


def current_settings():
    """The settings of the session's run (as a dict): the run's own, else the Train page's, else defaults."""
    run = training.trainer()
    if run is not None:
        return run.settings.as_dict()
    try:
        return training.settings_from_widgets().as_dict()
    except ValueError:           # a typing slip in the Train page's boxes: the defaults instead
        return Settings().as_dict()


def download_button(key, where=st):
    """The button; the notebook is only built when it is clicked (from what the page run saw)."""
    settings, sample, language = current_settings(), state.dataset().is_sample, i18n.current()
    where.download_button(
        _("Download as notebook"), icon=":material/download:", key=key, on_click="ignore",
        data=lambda: contextvars.Context().run(_notebook, settings, sample, language),
        file_name="digits_run.ipynb", mime="application/x-ipynb+json",
        help=_("A Jupyter notebook with this run's settings and seed: load the data, train the NumPy network, "
               "test it, then the same network in PyTorch from the same initial weights, with cells that "
               "check both compute the same numbers."))


def _notebook(settings, sample, language):
    """The notebook's bytes, its markdown in `language`: Streamlit builds it when the button is clicked, outside
    the script run that knows the page's language (run in a context of its own, so no other run's changes)."""
    i18n.use(language)
    return notebook.to_bytes(notebook.build(settings, sample))
