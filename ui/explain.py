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
from i18n import N_, _, num, pct
from ui import linework, pictures, state
from ui.formats import sure_text

KEEP = 24                 # results kept per session (a few kilobytes each)
POOL = 6000               # training images searched for neighbours: 25 MB of CNN features (1,024 a digit)
SCALE = 5                 # 28 x 28 pictures shown 140 pixels wide
FOOL_STEP, FOOL_MAX_STEPS = 0.1, 300
DREAM_STEPS, DREAM_EVERY = 60, 5
# panel -> (title, Material icon)
PANELS = {"pixels": (N_("Which pixels mattered?"), ":material/ads_click:"),
          "cover": (N_("Cover it up"), ":material/visibility_off:"),
          "seen": (N_("What it has seen like this"), ":material/photo_library:"),
          "fool": (N_("The smallest change that fools it"), ":material/theater_comedy:"),
          "dream": (N_("What it thinks a digit looks like"), ":material/psychology:")}


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
            x = _search_space(data.source, len(data.x_train), data)[1]
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
    return (_("an {digit}") if k == 8 else _("a {digit}")).format(digit=k)


def _ink(x):
    return pictures.ink01_image(np.asarray(x).reshape(28, 28), scale=SCALE)


def _legend(blue, red):
    """The colour key of the red/blue pictures, in words with the colour bar between them."""
    bar = ("display:inline-block;width:140px;height:12px;vertical-align:middle;border:1px solid #999;"
           "background:linear-gradient(to right,rgb(33,102,172),#fff,rgb(178,24,43))")
    st.markdown('<div style="font-size:0.9rem">' + _("blue: {blue} {bar} red: {red}").format(
        blue=blue, red=red, bar=f'<span style="{bar}"></span>') + "</div>", unsafe_allow_html=True)


def _where_ink(values, x, sign):
    """Words for where the strongest values of one sign lie: 'mostly on the ink' or 'mostly off the ink'."""
    v = values * sign
    top = np.argsort(-v)[:40]
    top = top[v[top] > 0]
    if not len(top):
        return _("nowhere")
    on = float((np.asarray(x)[top] > 0.2).mean())
    return _("mostly on the ink") if on >= 0.5 else _("mostly on blank paper")


# ------------------------------------------------------------------ the panels

def panels(net, x, where, data=None, with_second=False, heading=st.subheader):
    """The five explanation panels for one image x (784,) in [0, 1] and the model net. with_second: let the user
    pick Draw's second opinion instead (the built-in MLP when net is the built-in CNN, else the built-in CNN). `where` prefixes every widget key ("draw",
    "eval"); data: the dataset for the nearest training images (default: the session's); heading: st.header or
    st.subheader, one level below the heading above it (headings in order, for a screen reader's map)."""
    x = np.asarray(x, dtype=np.float32).ravel()
    data = state.dataset() if data is None else data
    mlp, cnn = state.pretrained_model()[0], state.pretrained_cnn()[0]
    models = {(_("the built-in MLP") if net is mlp else _("the built-in CNN") if net is cnn else _("your model")): net}
    if with_second:
        models.setdefault(*((_("the built-in MLP"), mlp) if net is cnn else (_("the built-in CNN"), cnn)))
    for one in models.values():
        if one is mlp or one is cnn:
            hidden_index(_model_key(one), one, data)       # read the training images in the background now
    heading(_("Why did it say that?"))
    if len(models) > 1:
        net = models[st.segmented_control(_("Explain the answer of"), list(models), default=list(models)[0],
                                          required=True, key=f"{where}_x_model")]
    with np.errstate(all="ignore"):
        probs = net.predict_proba(x[None, :])[0]
    if not np.isfinite(probs).all():
        st.warning(_("This model's outputs are not finite numbers (its weights are too large for float32), so "
                     "there is no answer to explain."))
        return
    guess = int(probs.argmax())
    keys = (None, None)      # (model, image), worked out once a panel is open

    def keyed():
        nonlocal keys
        if keys[0] is None:
            keys = (_model_key(net), image_key(x))
        return keys

    st.caption(_("It said **{guess}**. Open a panel: each one asks the network a different question about this "
                 "digit.").format(guess=guess))
    for name, (label, icon) in PANELS.items():
        box = st.expander(_(label), icon=icon, key=f"{where}_xp_{name}", on_change="rerun")
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
    words = {k: (_("the guess, {guess}") if k is None else _("why {guess} and not {k}?")).format(guess=guess, k=k)
             for k in [None] + others}       # in the run's language (AppTest calls format_func outside the run)
    other = st.selectbox(_("Explain"), [None] + others, key=f"{where}_x_why", format_func=words.get,
                         help=_("The guess: what made the network surer of it. Why not k: what made it pick "
                                "{guess} over k.").format(guess=guess))
    if other is None:
        # d log a_guess / dx = -dL/dx with the guess as the label: it does not fade when the network is sure
        grad = ask("pixels", keyed() + (guess,), lambda: -explain.input_gradient(net, x, "loss", cls=guess)[0][0])
        towards, away = str(guess), _("other digits than {guess}").format(guess=guess)
        said = _("how the network's confidence in **{guess}** (the log of its probability) would change if that "
                 "pixel got a little more ink").format(guess=guess)
    else:
        grad = ask("pixels", keyed() + (guess, other),
                   lambda: explain.input_gradient(net, x, "margin", cls=guess, other=other)[0][0])
        towards, away = str(guess), str(other)
        said = _("how the score of **{guess}** minus the score of **{other}** would change if that pixel got a "
                 "little more ink: red pixels argue for {guess}, blue ones for {other}").format(guess=guess, other=other)
    times = explain.gradient_times_input(grad, x)
    a, b = st.columns(2)
    a.image(pictures.signed_overlay(grad, x, SCALE), caption=_("gradient"), width=28 * SCALE + 2,
            alt=_("The input gradient over the digit: red pixels push towards {towards} ({where_red}), blue ones "
                  "towards {away} ({where_blue}).").format(towards=towards, away=away,
                                                           where_red=_where_ink(grad, x, 1),
                                                           where_blue=_where_ink(grad, x, -1)))
    b.image(pictures.signed_overlay(times, x, SCALE), caption=_("gradient × input"), width=28 * SCALE + 2,
            alt=_("Gradient times input: only the inked pixels keep a colour; red ink pushed towards {towards}, "
                  "blue ink towards {away}.").format(towards=towards, away=away))
    _legend(_("towards {what}").format(what=away), _("towards {what}").format(what=towards))
    st.caption(_("The **gradient** says, for every pixel, {said}. It comes from the same backpropagation that "
                 "trains the network, taken one step further: down to the 784 inputs. **Gradient × input** keeps "
                 "only the pixels that have ink: how much each one's ink pushed, and which way.").format(said=said))


def _cover(net, x, where, guess, probs, keyed, data):
    occ = ask("cover", keyed(), lambda: linework.result(
        f"{where} cover", ("explain cover",) + keyed() + (guess,), linework.forward_flops(net) * (1 + 12 * 12),
        explain.occlusion_steps(net, x, cls=guess), _("Covering the digit square by square")))
    if occ is None:
        return
    lowest = float(occ.p - occ.drops.max())
    st.image(pictures.signed_overlay(occ.pixel_map, x, SCALE), width=28 * SCALE + 2,
             caption=_("probability of {guess} with a square covered").format(guess=guess),
             alt=_("Occlusion map: red where covering the digit lowers the probability of {guess} ({where}), blue "
                   "where covering raises it.").format(guess=guess, where=_where_ink(occ.pixel_map, x, 1)))
    _legend(_("covering it makes {guess} more likely").format(guess=guess),
            _("covering it makes {guess} less likely").format(guess=guess))
    n = occ.drops.size
    st.caption(_("A blank 6×6 square slides over the digit ({n} positions, all read by the network in one "
                 "batch). **Red**: covering that ink lowers the probability of {guess}, so the network needed it; "
                 "**blue**: covering it makes the network surer. With nothing covered it says {guess} at "
                 "{before}; the worst square brings that down to {after}.").format(
        n=num(n), guess=guess, before=sure_text(occ.p), after=sure_text(max(lowest, 0.0))))


def _seen(net, x, where, guess, probs, keyed, data):
    n_train = len(data.x_train)
    rows, x_rows, pixel_index = _search_space(data.source, n_train, data)
    if _is_built_in(net):
        with st.spinner(_("Reading the training images with this model (once per model)…")):
            index = hidden_index(keyed()[0], net, data).result()
    else:                  # the session's own model: its features are read in parts (in the line when big)
        def index_steps(stop=None):
            return explain.NearestIndex((yield from explain.hidden_features_steps(net, x_rows)(stop)))
        index = linework.result(f"{where} seen", ("explain seen",) + keyed()[:1] + (data.source, n_train),
                                linework.forward_flops(net) * len(rows), index_steps,
                                _("Reading {n} training images with your model (once per model)").format(
                                    n=num(len(rows))))
        if index is None:
            return

    def both():
        return (rows[index.nearest(explain.hidden_features(net, x)[0], 8)[0]],
                rows[pixel_index.nearest(x, 8)[0]])
    hidden, raw = ask("seen", keyed() + (data.source, n_train), both)
    labels = data.y_train
    for title, idx, how in [(_("In the last hidden layer"), hidden,
                             _("by what the network's last hidden layer makes of them")),
                            (_("In raw pixels"), raw, _("by their pixels"))]:
        same = int((labels[idx] == guess).sum())
        st.markdown(_("**{title}**: {same} of 8 are {guess}s").format(title=title, same=same, guess=guess))
        st.image([pictures.ink_image(data.x_train[i], scale=2) for i in idx],
                 caption=[a_digit(labels[i]) for i in idx], width=58,
                 alt=[_("Training image {i}, {digit}, one of the 8 nearest {how}").format(
                     i=i, digit=a_digit(labels[i]), how=how) for i in idx])
    searched = (_("{n} training images").format(n=num(len(rows))) if len(rows) == n_train else
                _("{n} training images (picked at random from {total})").format(n=num(len(rows)), total=num(n_train)))
    st.caption(_("The 8 of {searched} nearest to this digit, twice. Top: nearest in the **last hidden layer**, "
                 "the numbers the output layer reads to decide. Bottom: nearest in **raw pixels**, ink on the same "
                 "spots. The network compares the shapes it has learned to look for, not where the ink is.").format(
        searched=searched))


def _fool(net, x, where, guess, probs, keyed, data):
    order = [int(k) for k in np.argsort(-probs) if k != guess]
    target = st.selectbox(_("Make it say"), order, key=f"{where}_x_target",
                          help=_("The digit to push the network towards. The list starts with its second choice."))
    f = ask("fool", keyed() + (target,), lambda: linework.result(
        f"{where} fool", ("explain fool",) + keyed() + (target,), linework.forward_flops(net) * 3 * (FOOL_MAX_STEPS + 2),
        explain.fool_steps(net, x, target, step=FOOL_STEP, max_steps=FOOL_MAX_STEPS),
        _("Looking for the smallest change that makes it say {target}").format(target=target)))
    if f is None:
        return
    changed, change = f.x[0], f.change(x)[0]
    moved = int(explain.changed_pixels(change))
    biggest = float(np.abs(change).max())
    after = f.after[0]
    a, b, c = st.columns(3)
    a.image(_ink(x), caption=_("before: {guess}").format(guess=guess), width=28 * SCALE + 2,
            alt=_("The digit as given, read as {guess}.").format(guess=guess))
    b.image(_ink(changed), caption=_("after: {guess}").format(guess=int(after.argmax())), width=28 * SCALE + 2,
            alt=_("The changed digit, read as {guess}; it looks almost the same.").format(guess=int(after.argmax())))
    c.image(pictures.signed_overlay(change, x, SCALE, peak=max(biggest, 1e-6)), caption=_("the change"),
            width=28 * SCALE + 2, alt=_("The change: red where ink was added, blue where it was taken away; "
                                        "{moved} pixels moved by 10% of full ink or more.").format(moved=moved))
    _legend(_("ink taken away"), _("ink added"))
    if f.flipped[0]:
        st.markdown(_("After **{steps} small steps** the network says **{target}** ({p_target}; {guess}: "
                      "{p_guess}), where it said **{guess}** at {was_guess} (and {target} at {was_target}). "
                      "**{moved} pixels** moved by a tenth of full ink or more, the most by {biggest}; the change's "
                      "length is {length} (a full-ink pixel is 1).").format(
            steps=int(f.steps[0]), target=target, guess=guess, p_target=sure_text(after[target]),
            p_guess=sure_text(after[guess]), was_guess=sure_text(probs[guess]), was_target=sure_text(probs[target]),
            moved=moved, biggest=pct(biggest, 0), length=num(np.linalg.norm(change), 2)))
    else:
        st.markdown(_("**{steps} steps were not enough** to make it say {target}: now {p_target} for {target}, "
                      "{p_guess} for {guess}.").format(steps=FOOL_MAX_STEPS, target=target, guess=guess,
                                                       p_target=sure_text(after[target]),
                                                       p_guess=sure_text(after[guess])))
    st.caption(_("Each step moves the pixels a little (a length of {step} in all) in the direction that most "
                 "raises the probability of {target}: down the gradient of the loss with {target} as the label. It "
                 "stops as soon as the answer flips. To a person it is still the same digit: such inputs are called "
                 "adversarial examples. Measured on 200 test digits, the built-in CNN needs only a slightly bigger "
                 "change than the built-in MLP (median length {cnn} against {mlp}, bench/bench_explain.py): neither "
                 "is robust.").format(step=num(FOOL_STEP), target=target, cnn=num(1.8), mlp=num(1.6)))


@st.cache_resource(show_spinner=False, max_entries=4)
def _mean_digit(source, n_train, _data):
    """The average training digit (explain.mean_digit), where the class pictures start; shared by all sessions."""
    return explain.mean_digit(_data.x_train)


def _dream(net, x, where, guess, probs, keyed, data):
    k = st.selectbox(_("Digit"), range(10), index=3, key=f"{where}_x_dream",
                     help=_("Which output neuron to excite, starting from the average training digit."))
    start = _mean_digit(data.source, len(data.x_train), data)
    kept = keyed()[:1] + (k, data.source, len(data.x_train))
    got = ask("dream", kept, lambda: linework.result(
        f"{where} dream", ("explain dream",) + kept, linework.forward_flops(net) * 4 * (DREAM_STEPS + 1),
        _dream_steps(net, k, start), _("Making the picture of {digit}, step by step").format(digit=a_digit(k))))
    if got is None:
        return
    frames, stuck = got
    shown = st.select_slider(_("Step"), [fr[0] for fr in frames], value=frames[-1][0],
                             key=f"{where}_x_dream_t_{k}", help=_("Look at the picture at any step of its making."))
    t, img, p = next(fr for fr in frames if fr[0] == shown)
    a, b = st.columns(2)
    a.image(_ink(start), caption=_("the start: the average training digit"), width=28 * SCALE + 2,
            alt=_("The starting picture: the average of the {n} training digits, a grey blur.").format(
                n=num(len(data.x_train))))
    b.image(_ink(img), caption=_("step {t}: the network is {sure} sure it is {digit}").format(
                t=t, sure=sure_text(p), digit=a_digit(k)),
            width=28 * SCALE + 2,
            alt=_("What the network thinks {digit} looks like after {t} steps of gradient ascent from the average "
                  "training digit.").format(digit=a_digit(k), t=t))
    st.caption(_("It starts from the **average of the {n} training digits** (a blank page would not do: a ReLU "
                 "network whose first-layer units all have negative biases fires none of them on blank paper, and "
                 "then no pixel can change its answer). Each step changes the pixels in the direction that makes the "
                 "network surer it sees {digit} (gradient ascent on the log of its probability), while a smoothness "
                 "penalty keeps neighbouring pixels alike. The result is what excites the {k} output most, not a "
                 "typical {k}.").format(n=num(len(data.x_train)), digit=a_digit(k), k=k))
    if stuck:
        st.info(_("The picture cannot form for this model: at the start the gradient of its confidence in {k} is "
                  "exactly zero for every pixel. None of its first layer's units fires on this picture (each one's "
                  "weighted ink stays below its negative bias), so a small change of ink reaches nothing above "
                  "it.").format(k=k), icon="ℹ️")


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
