"""Where the session's MNIST comes from (Home's "Get the full MNIST" box): a folder
the student types, tried before it is kept, or the official files downloaded with
a progress bar. The outcome is left in st.session_state["home_msg"] for Home to show.
"""
import streamlit as st

from engine.data import DataError, download_mnist
from i18n import _, as_is, num
from ui import state
from ui.formats import source_text

def use_folder():
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
        st.session_state["home_msg"] = ("error", _("That folder cannot be used: {reason}. "
                                                   "The data loaded before is still in use.").format(reason=reason))
    else:
        st.session_state["data_dir"] = folder
        st.session_state["home_msg"] = ("success", _("Now using: {source}.").format(source=source_text(data.source)))


def download_full_mnist():
    """Download the four official files with a progress bar, then switch to them."""
    bar = st.progress(0.0, text=_("Connecting…"))
    shown = {"pct": -1}

    def progress(name, done, total):
        pct = int(100 * done / total) if total else 0
        if pct != shown["pct"]:        # one update per percent is plenty
            shown["pct"] = pct
            size = (_("{done} of {total} MB").format(done=num(done / 1e6, 1), total=num(total / 1e6, 1)) if total
                    else _("{done} MB").format(done=num(done / 1e6, 1)))
            bar.progress(pct / 100, text=f"{as_is(name)}: {size}")

    try:
        download_mnist(progress=progress)
    except (DataError, OSError) as e:
        bar.empty()
        st.session_state["home_msg"] = ("error", _("Download failed: {reason}").format(reason=e))
        st.rerun()
    bar.empty()
    st.session_state["data_dir"] = ""     # use the downloaded copy (found in the cache)
    state.reload_dataset()
    try:
        data = state.dataset()
    except DataError as e:
        st.session_state["home_msg"] = ("error", _("Downloaded, but the files cannot be read: {reason}").format(
            reason=e))
    else:
        st.session_state["home_msg"] = ("success", _("Downloaded. Now using: {source}.").format(
            source=source_text(data.source)))
    st.rerun()


def restore_folder_box():
    """Streamlit drops a widget's value while another page is shown: put the folder in use
    back into the box (only once it was dropped, so what the student typed stays)."""
    st.session_state.setdefault("data_dir", "")
    if "data_dir_input" not in st.session_state:
        st.session_state["data_dir_input"] = st.session_state["data_dir"]
