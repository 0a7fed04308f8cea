"""Why did it say 7? The explanation panels shown under a prediction (Draw) and for a mistake (Evaluate).

One call, panels(net, x, where), draws five expanders. Each one computes only while it is open
(st.expander's on_change="rerun" gives its .open state), and what it computed is kept in the
session (ask()), keyed by the model's weights, the image's bytes and the panel's settings, so a rerun
that changed none of them recomputes nothing. The training images' hidden features, the slow part of
"What it has seen like this", are read once per model in a background thread and shared by every
session (hidden_index). The maths is in engine/explain.py.
"""
import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import streamlit as st

from engine import explain
from engine.analysis import fingerprint
from engine.data import DataError, to_float
from ui import linework, pictures, state
from ui.formats import sure_text

KEEP = 24                 # results kept per session (a few kilobytes each)
POOL = 6000               # training images searched for neighbours: 25 MB of CNN features (1,024 a digit)
SCALE = 5                 # 28 x 28 pictures shown 140 pixels wide
FOOL_STEP, FOOL_MAX_STEPS = 0.1, 300
DREAM_STEPS, DREAM_EVERY = 60, 5
# panel -> (title, Material icon)
PANELS = {"pixels": ("Which pixels mattered?", ":material/ads_click:"),
          "cover": ("Cover it up", ":material/visibility_off:"),
          "seen": ("What it has seen like this", ":material/photo_library:"),
          "fool": ("The smallest change that fools it", ":material/theater_comedy:"),
          "dream": ("What it thinks a digit looks like", ":material/psychology:")}


# ------------------------------------------------------------------ caching

def ask(kind, key, compute):
    """compute(), or what it gave before in this session for the same kind and key (the last KEEP results)."""
    store = st.session_state.setdefault("explain_results", OrderedDict())
    full = (kind,) + key
    if full in store:
        store.move_to_end(full)
        return store[full]
    value = compute()
    if value is None:          # being computed in the line (ui/linework.py): its progress line is on the page
        return None
    store[full] = value
    while len(store) > KEEP:
        store.popitem(last=False)
    return value


def image_key(x):
    return hashlib.blake2b(np.ascontiguousarray(x, dtype=np.float32).tobytes(), digest_size=16).hexdigest()


@st.cache_resource(show_spinner=False, max_entries=4)
def _search_space(source, n_train, _data):
    """The training images searched for neighbours (POOL of them, explain.search_rows) as floats, and their
    pixel index; shared by all sessions."""
    rows = explain.search_rows(n_train, POOL)
    x = to_float(_data.x_train[rows])
    return rows, x, explain.NearestIndex(x)


_reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="explain-features")   # one at a time: 2 cores
_indexes = OrderedDict()          # (model, source, n_train) -> Future of its NearestIndex; the last 4 kept
_indexes_lock = threading.Lock()  # every session's script runs in its own thread


def hidden_index(model, net, data):
    """A Future of the NearestIndex of the searched training images' last hidden layer for one model (its
    fingerprint `model`), started once and shared by all sessions. Started in the background as soon as the
    panels are shown for a built-in model, so it is usually ready when "What it has seen" is opened."""
    key = (model, data.source, len(data.x_train))
    with _indexes_lock:
        future = _indexes.get(key)
        if future is None:
            _, x, _ = _search_space(data.source, len(data.x_train), data)
            future = _indexes[key] = _reader.submit(lambda: explain.NearestIndex(explain.hidden_features(net, x)))
            while len(_indexes) > 4:
                _indexes.popitem(last=False)
        _indexes.move_to_end(key)
    return future


def warm_up(data=None):
    """Start reading the training images' hidden features for both built-in models now, in the background
    (Draw and Evaluate call it as they open), so "What it has seen like this" is ready by the time a digit is
    drawn or a mistake picked: the CNN's read takes about 2 s, longer than a panel should."""
    try:
        data = state.dataset() if data is None else data
    except DataError:
        return                      # no data, no neighbours to look for: the page says why where it needs it
    for net in (state.pretrained_model()[0], state.pretrained_cnn()[0]):
        hidden_index(_model_key(net), net, data)


# ------------------------------------------------------------------ pictures and words

def a_digit(k):
    """'a 7', 'an 8': a digit with its article."""
    return f"an {k}" if k == 8 else f"a {k}"


def _ink(x):
    return pictures.ink01_image(np.asarray(x).reshape(28, 28), scale=SCALE)


def _legend(blue, red):
    """The colour key of the red/blue pictures, in words with the colour bar between them."""
    bar = ("display:inline-block;width:140px;height:12px;vertical-align:middle;border:1px solid #999;"
           "background:linear-gradient(to right,rgb(33,102,172),#fff,rgb(178,24,43))")
    st.markdown(f'<div style="font-size:0.9rem">blue: {blue} <span style="{bar}"></span> red: {red}</div>',
                unsafe_allow_html=True)


def _where_ink(values, x, sign):
    """Words for where the strongest values of one sign lie: 'mostly on the ink' or 'mostly off the ink'."""
    v = values * sign
    top = np.argsort(-v)[:40]
    top = top[v[top] > 0]
    if not len(top):
        return "nowhere"
    on = float((np.asarray(x)[top] > 0.2).mean())
    return "mostly on the ink" if on >= 0.5 else "mostly on blank paper"


# ------------------------------------------------------------------ the panels

def panels(net, x, where, data=None, with_second=False, heading=st.subheader):
    """The five explanation panels for one image x (784,) in [0, 1] and the model net. with_second: let the user
    pick Draw's second opinion instead (the built-in MLP when net is the built-in CNN, else the built-in CNN). `where` prefixes every widget key ("draw",
    "eval"); data: the dataset for the nearest training images (default: the session's); heading: st.header or
    st.subheader, one level below the heading above it (headings in order, for a screen reader's map)."""
    x = np.asarray(x, dtype=np.float32).ravel()
    data = state.dataset() if data is None else data
    mlp, cnn = state.pretrained_model()[0], state.pretrained_cnn()[0]
    models = {("the built-in MLP" if net is mlp else "the built-in CNN" if net is cnn else "your model"): net}
    if with_second:
        models.setdefault(*(("the built-in MLP", mlp) if net is cnn else ("the built-in CNN", cnn)))
    for one in models.values():
        if one is mlp or one is cnn:
            hidden_index(_model_key(one), one, data)       # read the training images in the background now
    heading("Why did it say that?")
    if len(models) > 1:
        net = models[st.segmented_control("Explain the answer of", list(models), default=list(models)[0],
                                          required=True, key=f"{where}_x_model")]
    with np.errstate(all="ignore"):
        probs = net.predict_proba(x[None, :])[0]
    if not np.isfinite(probs).all():
        st.warning("This model's outputs are not finite numbers (its weights are too large for float32), so there "
                   "is no answer to explain.")
        return
    guess = int(probs.argmax())
    keys = (None, None)      # (model, image), worked out once a panel is open

    def keyed():
        nonlocal keys
        if keys[0] is None:
            keys = (_model_key(net), image_key(x))
        return keys

    st.caption(f"It said **{guess}**. Open a panel: each one asks the network a different question about this "
               f"digit.")
    for name, (label, icon) in PANELS.items():
        box = st.expander(label, icon=icon, key=f"{where}_xp_{name}", on_change="rerun")
        if box.open:
            with box:
                PANEL_DRAWERS[name](net, x, where, guess, probs, keyed, data)


_known = {}       # id -> (net, fingerprint) of the built-in models, which live as long as the server


def _is_built_in(net):
    return any(net is b[0] for b in (state.pretrained_model(), state.pretrained_cnn()))


def _model_key(net):
    """The model's fingerprint (its shape and every weight: the same key means the same function), worked out
    once for a built-in model (it never changes), every time for the user's."""
    if not _is_built_in(net):
        return fingerprint(net)
    hit = _known.get(id(net))
    if hit is None or hit[0] is not net:
        hit = _known[id(net)] = (net, fingerprint(net))
    return hit[1]


def _pixels(net, x, where, guess, probs, keyed, data):
    others = [k for k in range(10) if k != guess]
    other = st.selectbox("Explain", [None] + others, key=f"{where}_x_why",
                         format_func=lambda k: f"the guess, {guess}" if k is None else f"why {guess} and not {k}?",
                         help="The guess: what made the network surer of it. Why not k: what made it pick "
                              f"{guess} over k.")
    if other is None:
        # d log a_guess / dx = -dL/dx with the guess as the label: it does not fade when the network is sure
        grad = ask("pixels", keyed() + (guess,), lambda: -explain.input_gradient(net, x, "loss", cls=guess)[0][0])
        towards, away = str(guess), f"other digits than {guess}"
        said = (f"how the network's confidence in **{guess}** (the log of its probability) would change if that "
                f"pixel got a little more ink")
    else:
        grad = ask("pixels", keyed() + (guess, other),
                   lambda: explain.input_gradient(net, x, "margin", cls=guess, other=other)[0][0])
        towards, away = str(guess), str(other)
        said = (f"how the score of **{guess}** minus the score of **{other}** would change if that pixel got a "
                f"little more ink: red pixels argue for {guess}, blue ones for {other}")
    times = explain.gradient_times_input(grad, x)
    a, b = st.columns(2)
    a.image(pictures.signed_overlay(grad, x, SCALE), caption="gradient", width=28 * SCALE + 2,
            alt=f"The input gradient over the digit: red pixels push towards {towards} "
                f"({_where_ink(grad, x, 1)}), blue ones towards {away} ({_where_ink(grad, x, -1)}).")
    b.image(pictures.signed_overlay(times, x, SCALE), caption="gradient × input", width=28 * SCALE + 2,
            alt=f"Gradient times input: only the inked pixels keep a colour; red ink pushed towards {towards}, "
                f"blue ink towards {away}.")
    _legend(f"towards {away}", f"towards {towards}")
    st.caption(f"The **gradient** says, for every pixel, {said}. It comes from the same backpropagation that trains "
               "the network, taken one step further: down to the 784 inputs. **Gradient × input** keeps only the "
               "pixels that have ink: how much each one's ink pushed, and which way.")


def _cover(net, x, where, guess, probs, keyed, data):
    occ = ask("cover", keyed(), lambda: linework.result(
        f"{where} cover", ("explain cover",) + keyed() + (guess,), linework.forward_flops(net) * (1 + 12 * 12),
        explain.occlusion_steps(net, x, cls=guess), "Covering the digit square by square"))
    if occ is None:
        return
    lowest = float(occ.p - occ.drops.max())
    st.image(pictures.signed_overlay(occ.pixel_map, x, SCALE), width=28 * SCALE + 2,
             caption=f"probability of {guess} with a square covered",
             alt=f"Occlusion map: red where covering the digit lowers the probability of {guess} "
                 f"({_where_ink(occ.pixel_map, x, 1)}), blue where covering raises it.")
    _legend(f"covering it makes {guess} more likely", f"covering it makes {guess} less likely")
    n = occ.drops.size
    st.caption(f"A blank 6×6 square slides over the digit ({n} positions, all read by the network in one "
               f"batch). **Red**: covering that ink lowers the probability of {guess}, so the network needed it; "
               f"**blue**: covering it makes the network surer. With nothing covered it says {guess} at "
               f"{sure_text(occ.p)}; the worst square brings that down to {sure_text(max(lowest, 0.0))}.")


def _seen(net, x, where, guess, probs, keyed, data):
    n_train = len(data.x_train)
    rows, x_rows, pixel_index = _search_space(data.source, n_train, data)
    if _is_built_in(net):
        with st.spinner("Reading the training images with this model (once per model)…"):
            index = hidden_index(keyed()[0], net, data).result()
    else:                  # the session's own model: its features are read in parts (in the line when big)
        def index_steps(stop=None):
            return explain.NearestIndex((yield from explain.hidden_features_steps(net, x_rows)(stop)))
        index = linework.result(f"{where} seen", ("explain seen",) + keyed()[:1] + (data.source, n_train),
                                linework.forward_flops(net) * len(rows), index_steps,
                                f"Reading {len(rows):,} training images with your model (once per model)")
        if index is None:
            return

    def both():
        return (rows[index.nearest(explain.hidden_features(net, x)[0], 8)[0]],
                rows[pixel_index.nearest(x, 8)[0]])
    hidden, raw = ask("seen", keyed() + (data.source, n_train), both)
    labels = data.y_train
    for title, idx, how in [("In the last hidden layer", hidden, "by what the network's last hidden layer makes "
                                                                  "of them"),
                            ("In raw pixels", raw, "by their pixels")]:
        same = int((labels[idx] == guess).sum())
        st.markdown(f"**{title}**: {same} of 8 are {guess}s")
        st.image([pictures.ink_image(data.x_train[i], scale=2) for i in idx],
                 caption=[a_digit(labels[i]) for i in idx], width=58,
                 alt=[f"Training image {i}, {a_digit(labels[i])}, one of the 8 nearest {how}" for i in idx])
    searched = f"{len(rows):,} training images" + ("" if len(rows) == n_train else f" (picked at random from "
                                                                                    f"{n_train:,})")
    st.caption(f"The 8 of {searched} nearest to this digit, twice. Top: nearest in the **last hidden layer**, "
               "the numbers the output layer reads to decide. Bottom: nearest in **raw pixels**, ink on the same "
               "spots. The network compares the shapes it has learned to look for, not where the ink is.")


def _fool(net, x, where, guess, probs, keyed, data):
    order = [int(k) for k in np.argsort(-probs) if k != guess]
    target = st.selectbox("Make it say", order, key=f"{where}_x_target",
                          help="The digit to push the network towards. The list starts with its second choice.")
    f = ask("fool", keyed() + (target,), lambda: linework.result(
        f"{where} fool", ("explain fool",) + keyed() + (target,), linework.forward_flops(net) * 3 * (FOOL_MAX_STEPS + 2),
        explain.fool_steps(net, x, target, step=FOOL_STEP, max_steps=FOOL_MAX_STEPS),
        f"Looking for the smallest change that makes it say {target}"))
    if f is None:
        return
    changed, change = f.x[0], f.change(x)[0]
    moved = int(explain.changed_pixels(change))
    biggest = float(np.abs(change).max())
    after = f.after[0]
    a, b, c = st.columns(3)
    a.image(_ink(x), caption=f"before: {guess}", width=28 * SCALE + 2, alt=f"The digit as given, read as {guess}.")
    b.image(_ink(changed), caption=f"after: {int(after.argmax())}", width=28 * SCALE + 2,
            alt=f"The changed digit, read as {int(after.argmax())}; it looks almost the same.")
    c.image(pictures.signed_overlay(change, x, SCALE, peak=max(biggest, 1e-6)), caption="the change",
            width=28 * SCALE + 2, alt=f"The change: red where ink was added, blue where it was taken away; "
                                      f"{moved} pixels moved by 10% of full ink or more.")
    _legend("ink taken away", "ink added")
    if f.flipped[0]:
        st.markdown(f"After **{int(f.steps[0])} small steps** the network says **{target}** "
                    f"({sure_text(after[target])}; {guess}: {sure_text(after[guess])}), where it said **{guess}** "
                    f"at {sure_text(probs[guess])} (and {target} at {sure_text(probs[target])}). "
                    f"**{moved} pixels** moved by a tenth of full ink or more, the most by {biggest:.0%}; "
                    f"the change's length is {np.linalg.norm(change):.2f} (a full-ink pixel is 1).")
    else:
        st.markdown(f"**{FOOL_MAX_STEPS} steps were not enough** to make it say {target}: now "
                    f"{sure_text(after[target])} for {target}, {sure_text(after[guess])} for {guess}.")
    st.caption(f"Each step moves the pixels a little (a length of {FOOL_STEP} in all) in the direction that most "
               f"raises the probability of {target}: down the gradient of the loss with {target} as the label. It "
               "stops as soon as the answer flips. To a person it is still the same digit: such inputs are called "
               "adversarial examples. Measured on 200 test digits, the built-in CNN needs only a slightly bigger change "
               "than the built-in MLP (median length 1.8 against 1.6, bench/bench_explain.py): neither is robust.")


@st.cache_resource(show_spinner=False, max_entries=4)
def _mean_digit(source, n_train, _data):
    """The average training digit (explain.mean_digit), where the class pictures start; shared by all sessions."""
    return explain.mean_digit(_data.x_train)


def _dream(net, x, where, guess, probs, keyed, data):
    k = st.selectbox("Digit", range(10), index=3, key=f"{where}_x_dream",
                     help="Which output neuron to excite, starting from the average training digit.")
    start = _mean_digit(data.source, len(data.x_train), data)
    kept = keyed()[:1] + (k, data.source, len(data.x_train))
    got = ask("dream", kept, lambda: linework.result(
        f"{where} dream", ("explain dream",) + kept, linework.forward_flops(net) * 4 * (DREAM_STEPS + 1),
        _dream_steps(net, k, start), f"Making the picture of {a_digit(k)}, step by step"))
    if got is None:
        return
    frames, stuck = got
    shown = st.select_slider("Step", [t for t, _, _ in frames], value=frames[-1][0], key=f"{where}_x_dream_t_{k}",
                             help="Look at the picture at any step of its making.")
    t, img, p = next(fr for fr in frames if fr[0] == shown)
    a, b = st.columns(2)
    a.image(_ink(start), caption="the start: the average training digit", width=28 * SCALE + 2,
            alt=f"The starting picture: the average of the {len(data.x_train):,} training digits, a grey blur.")
    b.image(_ink(img), caption=f"step {t}: the network is {sure_text(p)} sure it is {a_digit(k)}",
            width=28 * SCALE + 2,
            alt=f"What the network thinks {a_digit(k)} looks like after {t} steps of gradient ascent from the "
                f"average training digit.")
    st.caption(f"It starts from the **average of the {len(data.x_train):,} training digits** (a blank page would "
               f"not do: a ReLU network whose first-layer units all have negative biases fires none of them on "
               f"blank paper, and then no pixel can change its answer). Each step changes the pixels in the direction "
               f"that makes the network surer it sees {a_digit(k)} (gradient ascent on the log of its "
               f"probability), while a smoothness penalty keeps neighbouring pixels alike. The result is what "
               f"excites the {k} output most, not a typical {k}.")
    if stuck:
        st.info(f"The picture cannot form for this model: at the start the gradient of its confidence in {k} is "
                f"exactly zero for every pixel. None of its first layer's units fires on this picture (each one's "
                f"weighted ink stays below its negative bias), so a small change of ink reaches nothing above it.",
                icon="ℹ️")


def _dream_steps(net, k, start):
    """Steps (engine/linework.py) of the class picture from `start`: one gradient step a part; its frames every
    DREAM_EVERY steps and the last, and whether the gradient is exactly zero at the start (then the picture
    cannot move: the page says why)."""
    def steps(stop=None):
        stuck = not np.any(explain.input_gradient(net, start, "loss", cls=k)[0])
        yield 0.0
        frames = []
        for t, img, p in explain.dream(net, k, steps=DREAM_STEPS, every=1, start=start):
            if t % DREAM_EVERY == 0 or t == DREAM_STEPS:
                frames.append((t, img, p))
            yield t / DREAM_STEPS
        return frames, stuck
    return steps


PANEL_DRAWERS = {"pixels": _pixels, "cover": _cover, "seen": _seen, "fool": _fool, "dream": _dream}
