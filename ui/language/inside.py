"""The Inside a language model page's parts (app_pages/14_inside_language.py): big numbers in words and
the key/value cache's speed measured once per model (the measuring is engine/language/generate.py's)."""
import streamlit as st

from engine.language.generate import affordable_length, cache_speed
from i18n import _, num
from ui.language.model import model_key

SPEED_KEY = "lm_cache_speed"      # {(model fingerprint): cache_speed's result}
SPEED_SECONDS = 0.2               # each generation without the cache: about this long (4 generations in all)


def big_number(n):
    """124,439,808 -> '124.4 million'; 7.4e20 -> '7.4 × 10^20'; small numbers with thousands' commas
    (in this run's language)."""
    if n < 1e6:
        return num(round(n))
    for size, word in ((1e12, None), (1e9, lambda x: _("{n} billion").format(n=x)),
                       (1e6, lambda x: _("{n} million").format(n=x))):
        if n >= size and word:
            return word(num(n / size, 1))
        if n >= size:
            exp = len(str(int(n))) - 1
            return f"{num(n / 10 ** exp, 1)} × 10^{exp}"
    return num(round(n))


def speed(entry, again=False):
    """cache_speed for the session's model, measured once (again=True: measure anew). Bounded: the length
    is what one generation without the cache writes in about SPEED_SECONDS here and now."""
    store = st.session_state.setdefault(SPEED_KEY, {})
    key = model_key(entry)
    if again or key not in store:
        model, vocab = entry["model"], entry["vocab"]
        prompt = vocab.encode("\n", unknown=vocab.chars[0])[:1]
        n = affordable_length(model, SPEED_SECONDS, most=500, least=5) if model.kind == "transformer" else 200
        store[key] = cache_speed(model, prompt, n)
    return store[key]
