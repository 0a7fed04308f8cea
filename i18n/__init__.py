"""Every word the app shows goes through here: `_("...")` in the language of this browser session.

    from i18n import _, N_, ngettext, num, pct

    st.title(_("Evaluate a model"))
    st.caption(_("{n} test images").format(n=num(len(x))))       # numbers as the language writes them
    HELP = N_("Share of test images ...")                       # at import time: marked, translated later
    st.metric(_("Test accuracy"), pct(acc, 2), help=_(HELP))

The catalogues are standard gettext `.po` files, i18n/locales/<code>/LC_MESSAGES/messages.po, one per
language (a translator needs only that file): Babel extracts the messages from the code and compiles each `.po`
when the app starts, Python's `gettext` reads it. English is the source language (no catalogue needed).
The pseudo-language "qps" marks every translated message ⟦like this⟧ (its placeholders left outside the marks, so
a value filled in later is seen on its own) and every as_is() text ⟪like this⟫: the tests render every page in it
and fail on visible text that did not come through here.

The language of the current script run is a context variable: dashboard.py sets it at the start of every run
(`use(code)`), so each browser session (each its own script thread) has its own. No Streamlit in this module:
the engine's messages and the command line use it too.
"""
import contextvars
import gettext
import io
import re
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SOURCE = "en"
# The languages the app offers: code -> name in its own language. A new language is one line here plus its
# i18n/locales/<code>/LC_MESSAGES/messages.po.
LANGUAGES = {"en": "English", "it": "Italiano"}
QUERY = "lang"                  # the address's parameter that names the language: ?lang=it
PSEUDO = "qps"                  # tests only: every message marked ⟦…⟧, every as_is() text ⟪…⟫
OPEN, CLOSE = "⟦", "⟧"
DATA_OPEN, DATA_CLOSE = "⟪", "⟫"

_current = contextvars.ContextVar("language", default=None)
_fallbacks = []          # where current() looks when this thread has no language set (see fallback())


def use(code):
    """Make `code` the language of this thread's script run (an unknown code means English)."""
    _current.set(code if code in LANGUAGES or code == PSEUDO else SOURCE)


def match(value):
    """The code of LANGUAGES (or the pseudo-language) that `value` names, None if none: "it", "it-IT",
    "it_IT.UTF-8", "IT" -> "it"; "pt-br" -> "pt_BR" when that is offered, else "pt". Anything odd (not text,
    too long) -> None."""
    if not isinstance(value, str) or not 1 < len(value) < 36:
        return None
    v = value.strip().split(".")[0].split("@")[0].replace("_", "-").lower()
    if v == PSEUDO:
        return v
    offered = {code.replace("_", "-").lower(): code for code in LANGUAGES}
    return offered.get(v) or offered.get(v.split("-")[0])


def from_environment(environ=None):
    """The language a command line speaks: the first offered one of LANGUAGE (a list: "it:en"), LC_ALL,
    LC_MESSAGES, LANG, as gettext reads them; English if none ("C", "POSIX" and unknown codes are none)."""
    import os
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            for part in value.split(":"):
                code = match(part)
                if code and code != PSEUDO:
                    return code
            if name != "LANGUAGE":       # gettext: the first of LC_ALL, LC_MESSAGES, LANG that is set decides
                return SOURCE
    return SOURCE


def current():
    """The language code of this run: "en", "it", ...: the one use() set in this thread; else the first a
    fallback gives (a widget's callback runs before dashboard.py sets it: the session's language); else English."""
    code = _current.get()
    if code is None:
        code = next((c for c in (fn() for fn in _fallbacks) if c in LANGUAGES or c == PSEUDO), SOURCE)
    return code


def fallback(fn):
    """Register fn() -> a language code or None: where current() looks when use() was not called in this thread
    (ui/translation.py registers the browser session's language, for callbacks)."""
    if fn not in _fallbacks:
        _fallbacks.append(fn)
    return fn


@lru_cache(maxsize=None)
def _catalogue(code):
    """gettext's reader for `code`, from its .po compiled in memory by Babel (no stale .mo files to ship);
    NullTranslations (the English source text) when there is no catalogue."""
    po = LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == SOURCE or not po.is_file():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    with po.open("rb") as f:
        catalog = read_po(f, locale=code)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def _(message):
    """`message` (English) in this run's language."""
    code = current()
    if code == PSEUDO:
        return _marked(message)
    return _catalogue(code).gettext(message)


# A placeholder of str.format ({n}, {acc:.1%}, {}) or of %-formatting (%d, %(n)s): what is filled in later.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{[^{}]*\}|%%|%(?:\([^)]*\))?[-#0+]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def _marked(message):
    """The pseudo-language's form of a message: its words marked ⟦…⟧, its placeholders left outside the marks,
    so that a value filled in later is checked on its own ("⟦Data: ⟧{source}": an English source shows)."""
    out, last = [], 0
    for m in _PLACEHOLDER.finditer(message):
        if m.group() in ("{{", "}}", "%%"):
            continue
        out += [OPEN + message[last:m.start()] + CLOSE] * (m.start() > last) + [m.group()]
        last = m.end()
    out += [OPEN + message[last:] + CLOSE] * (len(message) > last or not out)
    return "".join(out)


def pgettext(context, message):
    """`message` in this run's language, where the same English needs another word elsewhere: `context` tells
    them apart (pgettext("menu section", "Start") is "Per cominciare", the button's _("Start") "Avvia")."""
    code = current()
    if code == PSEUDO:
        return _marked(message)
    return _catalogue(code).pgettext(context, message)


def NC_(context, message):
    """N_() with a context: marks `message` where it is defined; pgettext(context, message) translates it where
    it is shown."""
    return message


def N_(message):
    """Marks `message` for translation where it is defined (a constant); `_()` translates it where shown."""
    return message


def as_is(text):
    """`text` shown as it is, in every language: data, not words to translate (a name the user chose, a
    sample of a corpus, a file's path, a model's layer sizes). Only the pseudo-language marks it ⟪…⟫, so the
    test that finds untranslated text knows it is meant to stay."""
    text = str(text)
    return DATA_OPEN + text + DATA_CLOSE if current() == PSEUDO else text


def ngettext(singular, plural, n):
    """The form of a message for the count n ("1 step" / "5 steps"), in this run's language."""
    code = current()
    if code == PSEUDO:
        return _marked(singular if n == 1 else plural)
    return _catalogue(code).ngettext(singular, plural, n)


def _babel_locale():
    code = current()
    return SOURCE if code == PSEUDO else code


def num(x, decimals=None):
    """A number as this language writes it: 12,345.6 in English, 12.345,6 in Italian. `decimals` fixed digits
    after the point (None: an integer keeps none, a float as Python would show it)."""
    from babel.numbers import format_decimal, get_group_symbol
    if isinstance(x, int) and abs(x) >= 10 ** 15 and decimals is None:   # past babel's 28 digits of precision
        return f"{x:,}".replace(",", get_group_symbol(_babel_locale()))     # (a stride of 10^30 in a hostile file)
    if decimals is None:
        if isinstance(x, int) or float(x).is_integer():
            return format_decimal(int(round(float(x))), locale=_babel_locale())
        return format_decimal(x, locale=_babel_locale(), decimal_quantization=False)
    fmt = "#,##0." + "0" * decimals if decimals > 0 else "#,##0"
    return format_decimal(round(float(x), decimals), format=fmt, locale=_babel_locale())


def pct(x, decimals=1):
    """A fraction as a percentage: 0.9635 -> "96.35%" in English, "96,35%" in Italian."""
    from babel.numbers import format_percent
    fmt = "#,##0." + "0" * decimals + "%" if decimals > 0 else "#,##0%"
    # Rounded as Python's f"{x:.2%}" rounds (the binary value, half to even), as num() does: Babel rounds the
    # decimal text of x half to even, so 0.9685 gave 96.8% where the English page had always shown 96.9%.
    return format_percent(round(float(x) * 100, decimals) / 100, format=fmt, locale=_babel_locale())
