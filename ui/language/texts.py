"""Which text the language pages read: a corpus that ships with the app or the user's own
(pasted, or a .txt file), shared by the pages of "From digits to words" (one choice for all).
The checks are engine/language/text.py's; here are the widgets and the caches."""
import html

import numpy as np
import streamlit as st

from engine.language import text as T
from i18n import N_, _, as_is, ngettext, num, pct

CHOICE, PASTE, UPLOAD, KEPT = "lm_text", "lm_paste", "lm_upload", "lm_own_text"
CHOICES = {"names": N_("Names"), "shakespeare": N_("Tiny Shakespeare"), "yours": N_("Your own text")}
ABOUT = {"names": N_("32,033 US first names, one a line"), "shakespeare": N_("1.1 MB of Shakespeare's plays")}
# The text in sentences ("The training part of {label} ..."): translated where shown
LABELS = {"names": N_("the names"), "shakespeare": N_("Tiny Shakespeare"), "yours": N_("your text")}
LIMIT_MB = T.MAX_TEXT_BYTES / 2**20
SHOWN = {" ": "␣", "\n": "↵", "\t": "⇥"}


def char_label(c):
    """How one character is written on the pages: a space as ␣, a line break as ↵, a tab as ⇥,
    other invisible characters by their code (U+200D)."""
    return SHOWN.get(c) or (c if c.isprintable() else f"U+{ord(c):04X}")


def quoted(c):
    """A character in a sentence: ‘e’, ‘␣’."""
    return f"‘{char_label(c)}’"


def chars_list(counts, most=12):
    """‘é’ (3 times), ‘😀’ (once), …: characters and their counts, in a sentence."""
    items = list(counts.items())
    words = ", ".join(ngettext("{char} (once)", "{char} ({n} times)", n).format(char=quoted(c), n=num(n))
                      for c, n in items[:most])
    if len(items) > most:
        return _("{chars} and {n} more").format(chars=words, n=num(len(items) - most))
    return words


@st.cache_resource(show_spinner=False, max_entries=2)
def _corpus(name):
    p = T.prepare(T.load_corpus(name))
    for a in (p.train_ids, p.val_ids):
        a.flags.writeable = False          # shared by every session
    return p


@st.cache_resource(show_spinner=False, max_entries=8)     # up to ~16 MB each (2 MB of text, its ids): 128 MB
def _own(text):
    p = T.prepare(text)
    for a in (p.train_ids, p.val_ids):
        a.flags.writeable = False
    return p


def _restore(key, default):
    """A widget's value as it was on the last language page: Streamlit forgets a widget's state
    on pages that do not draw it, so the value is also kept under a key of its own."""
    st.session_state[key] = st.session_state.get("_kept_" + key, default)


def _keep(key):
    """The widget's on_change: keep its new value for the next run and the other language page."""
    st.session_state["_kept_" + key] = st.session_state[key]


def _own_text():
    """The user's text from the upload box or else the paste box; None (with a sentence on the
    page) when there is none or it cannot be used."""
    st.write(_("Paste a text or upload a .txt file (UTF-8, at most {mb} MB). Its last {share} is kept "
               "apart for validation, as for the digits.").format(mb=num(LIMIT_MB), share=pct(0.1, 0)))
    c1, c2 = st.columns(2, gap="large")
    _restore(PASTE, "")
    pasted = c1.text_area(_("Paste or type your text"), key=PASTE, height=140, on_change=_keep, args=(PASTE,),
                          help=_("At least {n} characters, at most {mb} MB.").format(n=num(T.MIN_CHARS),
                                                                                    mb=num(LIMIT_MB)))
    file = c2.file_uploader(_("…or upload a .txt file"), type=["txt"], key=UPLOAD, max_upload_size=int(LIMIT_MB),
                            help=_("A plain text file saved as UTF-8. It is used instead of the pasted text."))
    kept_text, where, kept_paste = st.session_state.get(KEPT, (None, None, None))
    try:
        if file is not None:
            text, where = T.read_text_file(file.getvalue(), file.name[:80]), f"the file {file.name[:80]}"
        elif pasted and not (where and where.startswith("the file") and pasted == kept_paste):
            text, where = T.check_text(pasted), "the pasted text"
        elif kept_text is not None and where.startswith("the file"):   # the box forgets it on another page
            st.caption(_("Reading the file {name}: the last text you gave here (a file box forgets its file "
                         "when you change pages).").format(name=where.removeprefix("the file ")))
            return kept_text
        else:
            st.info(_("No text yet: paste one above or upload a .txt file."))
            return None
    except T.TextError as e:
        st.error(str(e))
        return None
    st.session_state[KEPT] = (text, where, pasted)
    return text


def choose_text():
    """The text radio (and, for your own text, its boxes). Returns (label for sentences, Prepared),
    or stops the page after saying in one sentence why there is no text to read."""
    _restore(CHOICE, "names")
    names = {c: _(name) for c, name in CHOICES.items()}       # worked out in this run's language
    choice = st.radio(_("Text to learn from"), list(CHOICES), format_func=names.get, key=CHOICE,
                      horizontal=True, on_change=_keep, args=(CHOICE,),
                      help=_("Names: the quickest lessons. Shakespeare: 1.1 MB of plays. Or your own text."))
    if choice != "yours":
        st.caption(_("{name}: {about} (public domain; see engine/language/corpus/README.md).").format(
            name=_(CHOICES[choice]), about=_(ABOUT[choice])))
        return _(LABELS[choice]), _corpus(choice)
    text = _own_text()
    if text is None:
        st.stop()
    return _(LABELS["yours"]), _own(text)


def unknown_sentence(p, label, taken_out=False):
    """What the validation part has that the training part never has, in one sentence ('' if nothing).
    taken_out: said for a training run (those places are taken out of the validation text)."""
    if not p.unknown:
        return ""
    n, total = len(p.unknown), sum(p.unknown.values())
    first = ngettext("The validation part of {label} has {n} character the training part never has: {chars}.",
                     "The validation part of {label} has {n} characters the training part never has: {chars}.",
                     n).format(label=label, n=num(n), chars=chars_list(p.unknown))
    if taken_out:
        then = ngettext("A model trained on the training part has never seen it and has no id for it, so the {n} "
                        "place where it occurs is taken out of the validation text before the model reads it.",
                        "A model trained on the training part has never seen it and has no id for it, so the {n} "
                        "places where it occurs are taken out of the validation text before the model reads it.",
                        total) if n == 1 else \
            ngettext("A model trained on the training part has never seen them and has no id for them, so the {n} "
                     "place where they occur is taken out of the validation text before the model reads it.",
                     "A model trained on the training part has never seen them and has no id for them, so the {n} "
                     "places where they occur are taken out of the validation text before the model reads it.",
                     total)
    else:
        then = ngettext("A model trained on the training part has never seen it and has no id for it, so the {n} "
                        "place where it occurs is left out of the validation loss.",
                        "A model trained on the training part has never seen it and has no id for it, so the {n} "
                        "places where it occurs are left out of the validation loss.",
                        total) if n == 1 else \
            ngettext("A model trained on the training part has never seen them and has no id for them, so the {n} "
                     "place where they occur is left out of the validation loss.",
                     "A model trained on the training part has never seen them and has no id for them, so the {n} "
                     "places where they occur are left out of the validation loss.",
                     total)
    return first + " " + then.format(n=num(total))


def chips(items):
    """HTML for a row of boxes, one per item (top text, bottom text, tooltip), that wraps like words:
    characters over their ids, or tokens (data: shown as they are in every language). Every text is escaped."""
    colours = ("#e8f0fb", "#fdf0e2")
    boxes = "".join(
        f'<span title="{html.escape(tip)}" style="display:inline-block;margin:2px;padding:2px 6px;'
        f'border:1px solid #9aa1ab;border-radius:4px;background:{colours[i % 2]};color:#111;'
        f'text-align:center;font-family:monospace;white-space:pre">{html.escape(as_is(top))}'
        + (f'<br><span style="font-size:0.8em;color:#333">{html.escape(as_is(bottom))}</span>' if bottom else "")
        + "</span>"
        for i, (top, bottom, tip) in enumerate(items))
    return f'<div style="line-height:1.9">{boxes}</div>'


def most_frequent(ids, size, n):
    """The n most frequent ids of a text, most frequent first, and every id's count."""
    counts = np.bincount(ids, minlength=size)
    return np.argsort(-counts, kind="stable")[:n], counts
