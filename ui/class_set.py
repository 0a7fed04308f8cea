"""The class set and leaderboard in the app: the one store of the server (classroom/store.py),
"Add to our class set" on Draw, "Submit this run" on Train and Compare, the leaderboard and
the teacher's controls on the Class page.

If the store cannot be used (a damaged, unwritable or newer database, an unreachable
PostgreSQL), these parts say why in one sentence and the rest of the app works as before.
"""
import hashlib
import re
import secrets
import string
import time

import numpy as np
import pandas as pd
import streamlit as st

from classroom import teacher
from classroom.export import mnist_zip, split
from classroom.limits import address_key
from classroom.store import Refused, StoreUnavailable, drawing_png
from engine import metrics
from engine.trainer import started_with, steering
from i18n import N_, _, num, pct
from ui import class_db, keep, lesson, linework, run_names, state
from ui.class_db import _failed, _open, store  # noqa: F401 (the pages' and tests' names for them)

MAX_CHANGES = 20            # changes of settings during a run kept with its leaderboard row (the rest counted)


def session_id():
    """This browser's opaque id in the store: a hash of its key (ui/keep.py), so nothing
    that identifies the student is kept and a reload does not reset its limits."""
    key = st.context.cookies.get(keep.COOKIE)
    if not (isinstance(key, str) and keep.KEY_PATTERN.fullmatch(key)):
        key = st.session_state.get("browser_key_new") or st.session_state.setdefault("class_key", secrets.token_hex(16))
    return hashlib.sha256(f"digits class set {key}".encode()).hexdigest()[:32]


def client_address():
    """The address this browser's connection comes from, as an opaque key (classroom/limits.py):
    the class set's limits and the passcode's slow-down count per address as well as per
    browser, since a new browser (a new cookie) is easy to get and a new address is not.
    Streamlit reads it from the connection itself; behind a reverse proxy that is the proxy,
    unless the server trusts the proxy to name the client (docs/class_limits.md)."""
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - no connection (a script run without a browser): this machine
        ip = None
    return address_key(ip)


def _nickname_box(key):
    st.session_state.setdefault("class_nickname", "")
    if key not in st.session_state:
        st.session_state[key] = st.session_state["class_nickname"]
    name = st.text_input(_("Nickname (optional)"), key=key, max_chars=24,
                         help=_("Shown on the Class page next to your entries. Not your real name, please."))
    st.session_state["class_nickname"] = name
    return name


def _store_or_say():
    s, why = store()
    if s is None:
        st.info(why, icon="ℹ️")
    return s


# ------------------------------------------------------------------ Draw: add a drawing

def add_to_class_set(prep, guess):
    """On Draw, under the guess: the student says which digit they meant and adds the drawing
    (prep: engine.preprocess's result for the canvas) to the class set."""
    with st.container(border=True):
        st.markdown(_("**Add it to our class set**"))
        s = _store_or_say()
        if s is None:
            return
        a, b = st.columns(2)
        meant = a.selectbox(_("Which digit did you mean?"), range(10), index=None, key="class_meant",
                            placeholder=_("Choose the digit you drew"),
                            help=_("The network read a {guess}; say what you really drew, right or wrong.").format(
                                guess=guess))
        with b:
            nickname = _nickname_box("class_nickname_draw")
        if st.button(_("➕ Add to our class set"), key="class_add", disabled=meant is None,
                     help=_("Saves this drawing and the digit you meant where the whole class can see it.")):
            try:
                s.add_drawing(session_id(), meant, prep.x, drawing_png(prep.raw), nickname=nickname,
                              address=client_address())
            except Refused as e:
                st.warning(str(e))
            except StoreUnavailable as e:
                st.error(str(e))
            else:
                mine = s.session_count(session_id())
                st.success(_("Added your {digit} to the class set ({mine} from you so far). See everyone's on the "
                             "Class page.").format(digit=meant, mine=num(mine)))


# ------------------------------------------------------------------ Train / Compare: submit a run

def _lesson_params(settings):
    """A lesson link's parameters for a run's settings (an MLP's or a CNN's; {} for a file's hand-made stack)."""
    values = lesson.values_of(settings)
    return lesson.to_params(values) if values else {}


def _with_steering(settings, marks):
    """A run's settings for its leaderboard row, with every change made while it trained (engine steering(),
    the first MAX_CHANGES of them and the count of all): {"steering": {setting: [[batch, old, new], ...]}, ...}."""
    changed = steering(marks)
    if not changed:
        return settings
    kept, left = {}, MAX_CHANGES
    for key, steps in changed.items():
        if left > 0:
            kept[key] = [list(step) for step in steps[:left]]
            left -= len(kept[key])
    return {**settings, "steering": kept, "steering_count": sum(map(len, changed.values()))}


def _learning_rate_text(settings):
    """A leaderboard row's learning rate, with every change made during its run: '0.01 → 0.2 at batch 553'."""
    changed = settings.get("steering") or {}
    words = run_names.value_text(settings, changed, "lr")
    more = run_names.steering_text(changed, skip=("lr",))
    cut = settings.get("steering_count", 0) - sum(map(len, changed.values()))
    return words + (f"; {more}" if more else "") + (_(" (and {n} more changes)").format(n=num(cut)) if cut > 0 else "")


def _lesson_link(row):
    """A leaderboard row's lesson link (the settings its run started with), or None for a network the Train
    page cannot make. Rows submitted before CNNs had links get theirs from their settings."""
    params = row["lesson"] or _lesson_params(row["settings"])
    return lesson.link(params) if params or lesson.values_of(row["settings"]) else None


def submit_run():
    """'Submit this run' to the leaderboard: the session's current model, with the accuracy the
    server measures now on its own test set (never a number from the page)."""
    net, info = state.user_model()
    if net is None or not (info or {}).get("settings"):
        return
    with st.expander(_("🏆 Submit this run to the class leaderboard")):
        s = _store_or_say()
        if s is None:
            return
        st.caption(_("Submits your current model, {model} (the latest run that finished). The server measures its "
                     "accuracy on the test set itself when you press the button.").format(
            model=info.get('label', _('your model'))))
        nickname = _nickname_box("class_nickname_submit")
        if st.button(_("Submit this run"), key="class_submit",
                     help=_("The server measures your current model on the test set and puts it on the leaderboard.")):
            data = state.dataset()
            predicted = net.predict_proba(data.test_float()).argmax(axis=1)
            accuracy = metrics.accuracy(predicted, data.y_test)
            marks = run_names.marks_of(info)
            try:
                s.add_score(session_id(), nickname, accuracy, len(data.y_test), data.source[:200],
                            net.describe()[:200], _with_steering(info["settings"], marks),
                            _lesson_params(started_with(info["settings"], marks)), address=client_address())
            except (Refused, StoreUnavailable) as e:
                st.warning(str(e))
            else:
                st.success(_("Submitted: {accuracy} on the {n} test digits, measured just now by the server. See the "
                             "leaderboard on the Class page.").format(accuracy=pct(accuracy, 2), n=num(len(data.y_test))))


# ------------------------------------------------------------------ Train: train with our digits

HOLD_OUT = 0.25      # the share of the class set kept out of training, to test on


def train_option(where, disabled=False):
    """On Train, with the data settings: "Add our class's digits" to the training data (a
    share held out), and what the last such run scored on MNIST test and the held-out digits."""
    on = where.toggle(_("Add our class's digits"), value=st.session_state.get("class_train_on", False),
                      key="train_class_digits", disabled=disabled,
                      help=_("Trains on MNIST plus the digits the class drew (Class page), keeping {share} of the "
                             "class's digits out of training to test on.").format(share=pct(HOLD_OUT, 0)))
    st.session_state["class_train_on"] = on
    held = st.session_state.get("class_train_holdout")
    net, info = state.user_model()
    runs = st.session_state.get("runs", [])
    if held and net is not None and runs and runs[-1]["id"] == held["run"] and len(held["y"]):
        with where:
            ours = accuracies([(_("your model"), net)], held["x"], held["y"])[0][1]
        if ours is not None:
            where.caption(_("Your last run, trained with {n} of our digits: **{ours}** on the {held} class digits it "
                            "never saw, {mnist} on the MNIST test set.").format(
                n=held['n_train'], ours=pct(ours, 1), held=len(held['y']),
                mnist=pct(info.get('test_accuracy', float('nan')), 1)))


def training_data(data):
    """(x_train, y_train) for a new run: MNIST's, plus the class set's training share when
    "Add our class's digits" is on (the held-out share is kept for the report above)."""
    st.session_state.pop("class_train_holdout", None)
    if not st.session_state.get("class_train_on"):
        return data.x_train, data.y_train
    s, why = store()
    if s is None:
        raise ValueError(_("our class's digits can't be added: {why}").format(why=why.rstrip('.')))
    x, y = s.class_set()[:2]
    if len(y) < 2:
        raise ValueError(_("our class set has fewer than 2 digits: add some on the Draw page first"))
    train, test = split(y, HOLD_OUT, seed=0)
    st.session_state["class_train_holdout"] = {"x": x[test], "y": y[test], "n_train": len(train),
                                               "run": st.session_state.get("run_counter", 0) + 1}
    return np.concatenate([data.x_train, x[train]]), np.concatenate([data.y_train, y[train]])


# ------------------------------------------------------------------ the Class page's parts

def accuracies(models, x, y):
    """[(name, accuracy on (x, y), predicted)] for named models on uint8 digits x (n, 784); accuracy and
    predicted are None for a model whose outputs are still being computed in the line (ui/linework.py:
    its progress line is on the page)."""
    digest = hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).hexdigest()
    out = []
    for name, net in models:
        if not len(y):
            out.append((name, float("nan"), np.zeros(0, int)))
            continue
        key = state.model_key(net)
        probs = linework.outputs(f"class set {key}", net, key, x.astype(np.float32) / 255,
                                 ("class set", digest), _("Reading our {n} digits with {model}").format(
                                     n=num(len(y)), model=name))
        predicted = None if probs is None else probs.argmax(axis=1)
        out.append((name, None if probs is None else metrics.accuracy(predicted, y), predicted))
    return out


def mnist_accuracies(models, data):
    """[accuracy on the MNIST test set] of named models (None while being measured), each measured once
    per model and data (ui/linework.py keeps the outputs)."""
    out = []
    for name, net in models:
        probs = linework.test_outputs(net, name)
        out.append(None if probs is None else metrics.accuracy(probs.argmax(axis=1), data.y_test))
    return out


def literal(text):
    """Text a student typed, shown in Markdown (st.table renders its cells as Markdown) exactly as typed: every
    ASCII punctuation mark backslash-escaped, and an invisible word joiner around each '.', '@' and ':' so that
    no address becomes a link and no ':name:' an emoji or icon."""
    text = re.sub("([" + re.escape(string.punctuation) + "])", r"\\\1", str(text))
    return re.sub(r"(\\[.@:])", "\u2060\\1\u2060", text)


def _test_set_text(row):
    """'2,000 digits of the built-in sample' or '10,000 digits of the full MNIST' (never a server's folder)."""
    if str(row["data"]).startswith("built-in sample"):
        return _("{n} test digits of the built-in sample").format(n=num(row['n_test']))
    return _("{n} test digits of MNIST").format(n=num(row['n_test']))


def _network_text(row):
    """A leaderboard row's network in a few words, from its settings ('MLP 784-256-10', 'CNN conv 8,16 @5×5, pool
    2'), else as the model described itself."""
    from ui import training      # (ui.training imports this module when a run starts)
    settings = row["settings"] or {}
    if settings.get("layers"):
        return "CNN " + training.cnn_words(settings["layers"])
    if settings.get("sizes"):
        return "MLP " + "-".join(map(str, settings["sizes"]))
    return str(row["model"])


def leaderboard(s, limit=50):
    """The leaderboard as a table that wraps its text to the page's width (so it fits a projector at 1280×720),
    with its CSV. The row ids are shown to the teacher, who removes rows by them."""
    rows = s.scores(limit=limit)
    if not rows:
        st.caption(_("No runs submitted yet: train on the Train page, then **Submit this run**."))
        return rows
    teacher = bool(st.session_state.get("class_teacher"))
    table = leaderboard_frame(rows)
    shown = table.assign(**{_("nickname"): [literal(n) for n in table[_("nickname")]],
                            _("lesson link"): [_("[reproduce]({url})").format(url=u) if u else "–"
                                               for u in table[_("lesson link")]]})
    st.table(shown if teacher else shown.drop(columns=_("id")), hide_index=True)
    st.caption(_("Test accuracy: measured by the server itself. Learning rate: with every change made while the run "
                 "trained. The link opens Train with the settings the run started with."))
    st.download_button(_("Leaderboard (CSV)"), table.to_csv(index=False), file_name="leaderboard.csv", mime="text/csv",
                       key="class_board_csv", on_click="ignore", icon=":material/download:")
    return rows


def leaderboard_frame(rows):
    """The leaderboard's rows (Store.scores()) as plain text, a row each: the table shown and its CSV."""
    return pd.DataFrame({
        _("rank"): range(1, len(rows) + 1),
        _("id"): [r["id"] for r in rows],
        _("nickname"): [r["nickname"] or _("(no nickname)") for r in rows],
        _("test accuracy"): [pct(r['accuracy'], 2) for r in rows],
        _("network"): [_network_text(r) for r in rows],
        _("learning rate"): [_learning_rate_text(r["settings"]) for r in rows],
        _("test set"): [_test_set_text(r) for r in rows],
        _("lesson link"): [_lesson_link(r) for r in rows],
    })


def _gate():
    passcode = teacher.configured_passcode(st.secrets)
    return _gates(hashlib.sha256(passcode.encode()).hexdigest(), passcode) if passcode else None


@st.cache_resource(show_spinner=False)
def _gates(digest, _passcode):
    # One Gate per passcode for the whole server (wrong attempts counted per browser and address).
    # The digest is the cache key; _passcode (underscored) is not hashed or kept by Streamlit.
    return teacher.Gate(_passcode, shared=_shared_tries)


def _shared_tries(who, quiet, max_keys):
    """Count a wrong try in the class database when the school's processes share one (PostgreSQL), so
    that the hold is the same whichever process the try lands on; None (counted in this process) on
    the single-process default or while that database cannot be reached."""
    if not class_db.shared():
        return None
    s, _ = store()
    try:
        return None if s is None else s.wrong_try(who, quiet, max_keys)
    except StoreUnavailable:
        return None


def _sign_in():
    """Called when the passcode box changes: check it, then forget what was typed. The right
    passcode gets in at once; the answer to a wrong one is held (classroom/teacher.py), and
    this browser's page can try again only once it is given."""
    gate = _gate()
    if gate is None:
        return
    attempt = st.session_state.get("class_passcode", "")
    st.session_state["class_passcode"] = ""          # never kept, never shown again
    ok, hold = gate.check(attempt, who=(f"browser {session_id()}", f"address {client_address()}"))
    if ok:
        st.session_state["class_teacher"] = True
        st.session_state["class_msg"] = ("success", _("Teacher controls on."))
    else:
        time.sleep(hold)
        st.session_state["class_msg"] = ("error", _("Wrong passcode (answered after {hold} s: each wrong try from "
                                                    "this browser or its network waits longer, up to {most} s; the "
                                                    "right passcode is never held).").format(
            hold=num(hold, 0), most=num(teacher.MAX_WAIT, 0)))


NO_PASSCODE = N_("🧑‍🏫 **Teachers:** the teacher controls (remove a drawing or a leaderboard row, clear both for "
               "the next class, export the class set) are off: this server was started without a passcode. "
               "Whoever runs it sets one as it starts, `DIGITS_TEACHER_PASSCODE=… streamlit run dashboard.py` "
               "(or `teacher_passcode` in `.streamlit/secrets.toml`): a running server never sees a variable set "
               "after it started, so stop it and start it again.")


def teacher_controls(s):
    """Remove a drawing or a leaderboard row, clear the set, export: behind the server's passcode."""
    gate = _gate()
    if gate is None:
        st.caption(_(NO_PASSCODE))
        return
    with st.expander(_("🧑‍🏫 Teacher controls")):
        msg = st.session_state.pop("class_msg", None)
        if msg:
            getattr(st, msg[0])(msg[1])
        if not st.session_state.get("class_teacher"):
            st.text_input(_("Teacher passcode"), type="password", key="class_passcode", on_change=_sign_in,
                          help=_("Set by whoever runs the server (DIGITS_TEACHER_PASSCODE or "
                                 ".streamlit/secrets.toml)."))
            return
        try:
            _controls(s)
        except StoreUnavailable as e:
            st.error(str(e))


def _controls(s):
    if st.button(_("Sign out"), key="class_signout"):
        st.session_state["class_teacher"] = False
        st.rerun()
    c = st.columns(2)
    drawing = c[0].number_input(_("Drawing number"), min_value=1, step=1, value=None, key="class_rm_drawing",
                                help=_("The number under a picture in the gallery."))
    if c[0].button(_("Remove this drawing"), key="class_rm_drawing_btn", disabled=drawing is None):
        _done(s.remove_drawing(drawing), _("Drawing {n} removed.").format(n=drawing),
              _("There is no drawing {n}.").format(n=drawing))
    row = c[1].number_input(_("Leaderboard row id"), min_value=1, step=1, value=None, key="class_rm_score",
                            help=_("The id column of the leaderboard above (shown while the teacher controls are "
                                   "on)."))
    if c[1].button(_("Remove this row"), key="class_rm_score_btn", disabled=row is None):
        _done(s.remove_score(row), _("Row {n} removed.").format(n=row), _("There is no row {n}.").format(n=row))
    sure = st.checkbox(_("Yes, remove every drawing of the class"), key="class_clear_sure")
    if st.button(_("Clear the class set"), key="class_clear", disabled=not sure):
        _done(True, _("Removed {n} drawings.").format(n=num(s.clear())), "")
    sure = st.checkbox(_("Yes, remove every row of the leaderboard"), key="class_clear_scores_sure")
    if st.button(_("Clear the leaderboard"), key="class_clear_scores", disabled=not sure):
        _done(True, _("Removed {n} leaderboard rows.").format(n=num(s.clear_scores())), "")
    x, y = s.class_set()[:2]
    if len(y) >= 2:
        st.download_button(_("Export the class set (MNIST files)"), mnist_zip(x, y), file_name="class-digits.zip",
                           mime="application/zip", key="class_export",
                           help=_("Four gzipped IDX files, as the official MNIST ones (20% held out as the test "
                                  "files): unzip and name the folder in Home's MNIST box or MNIST_DIR."))


def _done(ok, said, not_found):
    """After a removal: run the page again, so that the gallery and leaderboard above (drawn
    before these controls) no longer show what was removed, and say what happened there."""
    st.session_state["class_msg"] = ("success", said) if ok else ("warning", not_found)
    st.rerun()
