"""Where the session's MNIST comes from (Home's "Get the full MNIST" box): a folder
the student types, tried before it is kept, or the official files downloaded with
a progress bar. The outcome is left in st.session_state["home_msg"] for Home to show.

The engine names a dataset's source and why the full set is not used in English (engine/data.py: its words are
also a cache key and go into model files); source_text() and note_text() say them in the run's language.
"""
import re

import streamlit as st

from engine.data import DataError, download_mnist
from i18n import _, as_is, num
from ui import state

# engine/data.py's words for a source and a note, and the same in the run's language.
_SAMPLE = re.compile(r"built-in sample: ([\d,]+) of ([\d,]+) digits(?: \(read from (.+)\))?", re.S)
_FULL = re.compile(r"full MNIST from (.+)", re.S)
_NOTES = [(re.compile(r"no full MNIST found \(MNIST_DIR is not set and (.+) holds no copy\)", re.S),
           lambda m: _("no full MNIST found (MNIST_DIR is not set and {folder} holds no copy)").format(
               folder=as_is(m[1]))),
          (re.compile(r"the cached copy is unusable: (.+)", re.S),
           lambda m: _("the cached copy is unusable: {reason}").format(reason=as_is(m[1]))),
          (re.compile(r"download failed: (.+)", re.S),
           lambda m: _("download failed: {reason}").format(reason=as_is(m[1]))),
          (re.compile(r"(.+) holds the built-in sample, not the full set", re.S),
           lambda m: _("{file} holds the built-in sample, not the full set").format(file=as_is(m[1])))]


def source_text(source):
    """Where a dataset came from (engine/data.py's Dataset.source, or one recorded in a model file), in the
    run's language: "built-in sample: 12,000 of 70,000 digits" -> "campione incorporato: 12.000 ..."."""
    source = str(source)
    m = _SAMPLE.fullmatch(source)
    if m:
        n, total = (num(int(g.replace(",", ""))) for g in m.groups()[:2])
        if m[3]:
            return _("built-in sample: {n} of {total} digits (read from {file})").format(
                n=n, total=total, file=as_is(m[3]))
        return _("built-in sample: {n} of {total} digits").format(n=n, total=total)
    m = _FULL.fullmatch(source)
    if m:
        return _("full MNIST from {folder}").format(folder=as_is(m[1]))
    return as_is(source)


def note_text(note):
    """Why the full set is not in use (engine/data.py's Dataset.note), in the run's language."""
    for pattern, words in _NOTES:
        m = pattern.fullmatch(str(note))
        if m:
            return words(m)
    return as_is(note)


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
