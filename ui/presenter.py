"""Presenter mode: bigger text and charts for a projector, fewer knobs.

dashboard.py calls presenter_toggle() once per run, before the page runs, so
the switch sits in the sidebar of every page. Pages ask on() and hide their
advanced controls; explanations stay. The mode is kept in
st.session_state["presenter"] and in the URL as present=1, so a lesson link
can open straight into it.
"""
import streamlit as st

from i18n import _

KEY = "presenter"
PARAM = "present"
TRUE = ("1", "true", "on", "yes")

# Streamlit sizes its text in rem, so a bigger root font scales (almost) all of it.
CSS = """
<style>
html { font-size: 21px; }
[data-testid="stMain"] h1 { font-size: 2.6rem; }
[data-testid="stMain"] h2 { font-size: 2.0rem; }
[data-testid="stMain"] h3 { font-size: 1.6rem; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] { font-size: 0.95rem; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
/* A projector is often 1280x720: the page's side margins (5rem) are given to the content instead. */
[data-testid="stMainBlockContainer"] { padding-left: 1.5rem; padding-right: 1.5rem; }
/* (Nothing is cut short with "...": ui/a11y.py's styles, in every mode.) */
/* Tables of numbers: tighter cells; the Convolution page's three grids of numbers (ui/convolution.py
   number_grids, keys ending in _grids) in a smaller font (still above normal mode's), so they fit side by side. */
[data-testid="stTable"] td, [data-testid="stTable"] th { padding: 0.2rem 0.45rem; }
[class*="_grids"] [data-testid="stTable"] { font-size: 0.8rem; }
[class*="_grids"] [data-testid="stTable"] td { padding: 0.15rem 0.3rem; }
</style>
"""


def on():
    """Is presenter mode on for this session?"""
    return bool(st.session_state.get(KEY, False))


def presenter_toggle():
    """The sidebar switch, the URL flag and, when on, the big-text styles."""
    url = st.query_params.get(PARAM)
    # A link's flag is applied once; after that the switch leads and the URL follows.
    if url is not None and url != st.session_state.get("_presenter_synced"):
        st.session_state[KEY] = url.strip().lower() in TRUE
    st.sidebar.toggle("📽️ " + _("Presenter mode"), key=KEY,
                      help=_("For a projector: bigger text and charts, and only the main controls. "
                             "Adds present=1 to the address, so a shared link opens this way too."))
    want = "1" if on() else None
    if want and url != want:
        st.query_params[PARAM] = want
    elif not want and url is not None:
        del st.query_params[PARAM]
    st.session_state["_presenter_synced"] = want
    if on():
        st.html(CSS)


def height(normal):
    """A chart height, taller in presenter mode."""
    return int(normal * 1.4) if on() else normal
