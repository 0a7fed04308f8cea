"""Show the real engine code behind a picture: "🔎 Show the code that just ran".

Usage on any page, right after the engine call it explains:

    from ui.code import show_code
    show_code(Network.forward, Network.backward)

The text is read from the engine's own source files (inspect.getsource), so
it is always exactly the code that ran.
"""
import functools
import inspect
import textwrap
from pathlib import Path

import streamlit as st

from i18n import N_, _, as_is

ROOT = Path(__file__).resolve().parent.parent
TITLE = N_("🔎 Show the code that just ran")


def _unwrap(obj):
    """Bound methods, static/class methods and cached wrappers -> the plain function."""
    obj = getattr(obj, "__func__", obj)
    return inspect.unwrap(obj)


def source_of(obj):
    """(source text, where) of a function, method or class.

    where: like "engine/network.py, lines 76–83: `engine.network.one_hot`".
    Read once per object, then remembered.
    """
    text, path, first, last, name = _source_of(_unwrap(obj))
    return text, _("{path}, lines {first}–{last}: `{name}`").format(path=as_is(path), first=first, last=last,
                                                                     name=name)


@functools.lru_cache(maxsize=None)
def _source_of(obj):
    lines, start = inspect.getsourcelines(obj)
    text = textwrap.dedent("".join(lines)).rstrip()
    path = Path(inspect.getsourcefile(obj)).resolve()
    try:
        path = path.relative_to(ROOT).as_posix()
    except ValueError:
        path = path.name
    name = f"{obj.__module__}.{obj.__qualname__}"
    return text, path, start, start + len(lines) - 1, name


def show_code(*functions, title=TITLE, intro=None, expanded=False):
    """An expander holding the source of each function, in the order given.

    intro: an optional sentence saying how the code matches the picture.
    """
    with st.expander(_(title), expanded=expanded):
        if intro:
            st.markdown(intro)
        for f in functions:
            text, where = source_of(f)
            st.caption(where)
            st.code(text, language="python")
