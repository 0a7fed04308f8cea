"""Writing text with a trained model: one character at a time, each sampled from the model's
probabilities for the next one, then fed back in.

    sample(logits, temperature, top_k, rng)   one id from the scores of the next character
    generate(model, prompt, n, ...)           n new ids after the prompt, with or without the
                                              key/value cache (identical ids either way)

The key/value cache (the "systems" half). Without it, every new character runs the model over
the whole window again: the keys and values of the characters already read are computed
again and again. With it (engine/language/kvcache.py), each attention layer keeps the keys and
values it has made, and a new character costs one position's work: its own query, key and
value, and one row of scores against the cached keys.

The window. A transformer reads at most `context` characters, and learned each position's
own vector (PositionEmbedding), so the cached keys belong to their positions: a window cannot
slide by one without computing everything again. Both ways of generating therefore use the
same window: when it is full, it restarts from its last half (keep = context // 2 characters),
and goes on from there. Without the cache the whole window is read at every step; with it, the
half is read once when the window restarts and then one position a step.
"""
import numpy as np

from .kvcache import KVCache
from .models import Transformer


def sample(logits, temperature=1.0, top_k=None, rng=None):
    """One id from the next character's scores logits (V,).

    temperature: the scores are divided by it before the softmax (below 1: bolder choices of the
    likely; above 1: flatter, more surprising); 0 = always the most likely id.
    top_k: only the k most likely characters may be drawn (None or 0 = all of them).
    """
    z = np.asarray(logits, dtype=np.float64)
    if temperature <= 0:
        return int(np.argmax(z))
    z = z / temperature
    if top_k and top_k < len(z):
        kth = np.partition(z, -top_k)[-top_k]
        z = np.where(z < kth, -np.inf, z)
    p = np.exp(z - z.max())
    cumulative = np.cumsum(p)
    rng = rng if rng is not None else np.random.default_rng()
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"), len(z) - 1))


def generate(model, prompt, n, temperature=1.0, top_k=None, rng=None, seed=None, cache=True):
    """n new ids (int array) after the ids of `prompt` (at least one id).

    rng or seed: where the random draws come from (same seed, same text). cache: use the key/value
    cache (transformers only; the bigram and the MLP read one or k characters anyway).
    """
    prompt = [int(i) for i in np.asarray(prompt).reshape(-1)]
    if not prompt:
        raise ValueError("generation needs at least one character to start from")
    if rng is None:
        rng = np.random.default_rng(seed)
    transformer = isinstance(model, Transformer)
    T = model.context if transformer else getattr(model, "k", 1)
    keep = max(1, T // 2)
    window = prompt[-T:]
    out = np.empty(n, dtype=np.int32)
    use_cache = cache and transformer
    if use_cache:
        cache = KVCache(model)                       # engine/language/kvcache.py: room for a whole window
        logits = cache.read(window)
    for i in range(n):
        if not use_cache:
            logits = model.forward(np.array([window]))[0, -1]
        nxt = sample(logits, temperature, top_k, rng)
        out[i] = nxt
        if i == n - 1:
            break
        if transformer and len(window) == T:
            window = window[-keep:] + [nxt]          # the window is full: restart from its last half
            if use_cache:
                cache.clear()
                logits = cache.read(window)
        else:
            window = (window + [nxt])[-T:]
            if use_cache:
                logits = cache.next(nxt)                 # one position's work
    return out


def affordable_length(model, seconds=0.25, most=500, least=5, probe=3):
    """How many characters generating WITHOUT the cache can write in about `seconds` here and now:
    `probe` characters are generated without the cache after a full window (its slowest steps) and timed,
    and the answer kept from least to most (a big model gets few characters, so the measuring stays short)."""
    import time
    T = model.context if isinstance(model, Transformer) else getattr(model, "k", 1)
    start = time.perf_counter()
    generate(model, np.zeros(T, dtype=np.int32), probe, seed=0, cache=False)
    step = max((time.perf_counter() - start) / probe, 1e-9)
    return int(min(most, max(least, seconds / step)))


def cache_speed(model, prompt, n=500, seed=1, temperature=1.0, tries=2):
    """Measure generating n characters with and without the key/value cache, in turns (with, without,
    with, without, ...; the fastest of `tries` each, so one busy moment of a shared machine does not decide).
    Returns {"cache_s", "no_cache_s", "speedup", "identical", "ids", "n"}: identical is whether both wrote
    the same ids; ids: what the cached generation wrote."""
    import time
    times, texts = {True: [], False: []}, {}
    for cache in (True, False) * tries:
        start = time.perf_counter()
        texts[cache] = generate(model, prompt, n, temperature, seed=seed, cache=cache)
        times[cache].append(time.perf_counter() - start)
    return {"cache_s": min(times[True]), "no_cache_s": min(times[False]),
            "speedup": min(times[False]) / min(times[True]), "identical": bool(np.array_equal(texts[True], texts[False])),
            "ids": texts[True], "n": n}
