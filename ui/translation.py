"""Which language this browser session sees, and the sidebar's picker (issue 24).

The language of a run, first found wins:
  1. `?lang=it` in the address: a lesson link's (a teacher's link opens in the class's language) or the one this
     session put there. A link's language is applied once, when the address differs from what the session last
     wrote; after that the picker leads and the address follows (as presenter mode's present=1 does).
  2. the language picked in the sidebar, for the rest of the session;
  3. the browser's language (st.context.locale, else its Accept-Language header) on a first visit;
  4. English.
A language chosen by a link or the picker is kept in the address as lang=..., so a reload (a new session)
keeps it. Unknown or odd values (`lang=xx`, `lang=../../etc`, 10,000 characters) mean "not chosen": English or
the browser's, silently, and the address drops them.

The page's <html lang> follows the language (screen readers pick their voice by it; Streamlit writes "en"): a
tiny component sets it in the browser.
"""
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import i18n
from i18n import _

PARAM = i18n.QUERY          # the address's parameter: ?lang=it
KEY = "lang"                # st.session_state: the language a link or the picker chose (None: the browser's)
PICKER = "lang_picker"      # the picker's widget
NOW = "_lang_now"           # st.session_state: the language of the session's last run
_SYNCED = "_lang_synced"    # what this session last wrote in the address
HTML_LANG_JS = """
export default function(component) {
    // The page's language for screen readers and the browser (Streamlit's page says "en").
    if (document.documentElement.lang !== component.data) { document.documentElement.lang = component.data; }
}
"""


parse = i18n.match          # "it", "it-IT", "IT" -> "it"; odd values -> None


def from_browser():
    """The first offered language of this browser's, or None (no browser: tests, scripts)."""
    try:
        locale, header = st.context.locale, st.context.headers.get("Accept-Language")
    except Exception:       # noqa: BLE001 -- no browser session
        return None
    wanted = [locale] + [part.split(";")[0] for part in (header or "").split(",")][:10]
    return next((code for code in map(parse, wanted) if code and code != i18n.PSEUDO), None)


def choose():
    """Set this run's language (call first in dashboard.py, before any word is shown; a fragment's rerun may
    call it too, else it speaks the session's last language, as a callback does). Returns its code."""
    ss = st.session_state
    url = st.query_params.get(PARAM)
    if url is not None and url != ss.get(_SYNCED):          # a link's language, applied once
        ss[KEY] = parse(url) or ss.get(KEY)
    code = ss.get(KEY) or from_browser() or i18n.SOURCE
    i18n.use(code)
    ss[NOW] = code
    want = ss.get(KEY)                                      # only a chosen language goes in the address
    if want and url != want:
        st.query_params[PARAM] = want
    elif not want and url is not None:
        del st.query_params[PARAM]
    ss[_SYNCED] = want
    return code


@i18n.fallback
def _session_language():
    """The session's language where a run has not set it yet: a widget's callback (it runs before dashboard.py)
    speaks the language of the page it was clicked on. None outside a browser session's script thread."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    try:
        return st.session_state.get(NOW)
    except Exception:       # noqa: BLE001 -- no session state here
        return None


def _picked():
    st.session_state[KEY] = st.session_state[PICKER]


@st.cache_resource
def _html_lang_component():
    return st.components.v2.component("digits_html_lang", js=HTML_LANG_JS)


def picker():
    """The sidebar's language picker (each language named in itself) and the page's <html lang>."""
    code = i18n.current()
    st.session_state[PICKER] = code if code in i18n.LANGUAGES else i18n.SOURCE
    names = {c: i18n.as_is(name) for c, name in i18n.LANGUAGES.items()}    # made in the run (its language)
    st.sidebar.selectbox("🌐 " + _("Language"), list(i18n.LANGUAGES), key=PICKER, on_change=_picked,
                         format_func=names.get,
                         help=_("The app's language. It starts as your browser's; a lesson link can set it "
                                "(lang= in the address)."))
    with st.sidebar:
        _html_lang_component()(data=html_lang(code), key="html_lang")


def link_params():
    """A lesson or handout link's language, {"lang": "it"}, so it opens in the class's language; {} in English
    (links as they were before there were languages: each student's browser chooses)."""
    code = i18n.current()
    return {PARAM: code} if code in i18n.LANGUAGES and code != i18n.SOURCE else {}


def html_lang(code):
    """The <html lang> value (BCP 47) of a language code: "it", "pt-BR"; the pseudo-language's is English."""
    return i18n.SOURCE if code == i18n.PSEUDO else code.replace("_", "-")
