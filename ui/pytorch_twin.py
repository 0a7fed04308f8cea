"""The PyTorch page's comparison: the session's model next to its PyTorch twin (bridge/twin.py).

run() computes and keeps the result in the session; show() draws it. torch is only imported
(by bridge.twin, inside its functions) when a comparison is asked for.
"""
import re

import pandas as pd
import streamlit as st

from bridge import twin
from engine.data import to_float
from engine.linework import within
from i18n import _, as_is, ngettext, num
from ui import charts, formats, linework, state
from ui.chart_cache import show as show_chart

KEY = "pytorch_result"
ASKED = "pytorch_asked"     # mini-batches of the comparison asked for, until its result is there
BATCH = 64            # images in the one batch sent through both


def no_torch_note():
    """What a PyTorch page says when torch is not installed."""
    st.info(_("PyTorch is not installed here, so the comparison is off (everything else in the app works without "
              "it). To add it, run in the project's folder:\n\n```bash\npip install -r requirements-torch.txt\n```"
              "\n\nthen restart the app."), icon="ℹ️")


def saved_settings(net):
    """The settings `net` was trained with: the session's model's, else the built-in one's."""
    own, info = state.user_model()
    saved = (info or {}).get("settings") if net is own else state.pretrained_model()[1]
    return twin.settings_for(net, saved)


def ask(widget):
    """Run the comparison (the button) of as many mini-batches as the number input `widget` says: it is
    computed by result() on this and the next page runs."""
    st.session_state[ASKED] = int(st.session_state[widget])
    st.session_state.pop(KEY, None)


def result(net, name):
    """The comparison asked for with ask(): one batch through `net` and its twin, then both train that
    many mini-batches; kept in the session. Computed by ui/linework.py, so a big model's goes into the
    line in the Trainer's parts on both sides (bridge/twin.py), with a progress line here; None until then.
    A model PyTorch cannot run gets one sentence, never a traceback."""
    batches = st.session_state.get(ASKED)
    if batches is None:
        return st.session_state.get(KEY)
    data = state.dataset()
    try:
        settings = saved_settings(net)
        x, labels = to_float(data.x_train[:BATCH]), data.y_train[:BATCH]
        per_image = net.flops_per_example() + linework.forward_flops(net)
        flops = 2 * per_image * (BATCH + batches * settings.batch_size)         # both sides

        def steps(stop=None):
            check = yield from within(twin.compare_steps(net, x, labels, settings.l2)(stop), 0.0, 0.1)
            race = yield from within(twin.train_both_steps(net, data.x_train, data.y_train, settings, batches)(stop),
                                     0.1, 1.0)
            return check, race
        key = ("pytorch twin", state.model_key(net), batches, repr(settings.as_dict()), data.source, len(data.y_train))
        value = linework.result("pytorch", key, flops, steps,
                                _("Running {model} and its PyTorch twin side by side").format(model=name))
    except Exception as err:               # a model PyTorch cannot build or run: one sentence
        st.session_state.pop(ASKED, None)
        st.error(_("This model cannot be compared with PyTorch: {reason}.").format(reason=as_is(reason(err))), icon="⚠️")
        return None
    if value is None:
        return None
    st.session_state.pop(ASKED, None)
    check, race = value
    st.session_state[KEY] = {"name": name, "check": check, "race": race, "settings": settings}
    return st.session_state[KEY]


def reason(err):
    """An error's own words when they are short and name no file or folder, else its kind."""
    words = str(err).strip().splitlines()[0].split('"')[0].strip() if str(err).strip() else ""
    if not words or len(words) > 160 or "/" in words or "\\" in words:
        return _("PyTorch stopped with {error}").format(error=type(err).__name__)
    return words.rstrip(".")


def _sci(x):
    """A tiny difference in scientific notation, its mantissa as the language writes it: 1.2e-07, 1,2e-07."""
    text = f"{x:.1e}"
    if "e" not in text:            # nan, inf
        return text
    mantissa, exponent = text.split("e")
    return f"{num(float(mantissa), 1)}e{exponent}"


def _what(what):
    """A row of bridge/twin.py's comparison ('logits', 'layer 2 (dense 10): bias gradient') in this run's language
    (bridge/twin.py names them in English: it runs in the line of runs, outside the page's language)."""
    m = re.fullmatch(r"layer (\d+) \((.*)\): (weight|bias) gradient", what)
    if m:
        return (_("layer {i} ({kind}): weight gradient") if m[3] == "weight" else
                _("layer {i} ({kind}): bias gradient")).format(i=m[1], kind=as_is(m[2]))
    return {"logits": _("logits"), "loss": _("loss")}.get(what, what)


def show(result):
    """The table of differences, a verdict, and the two loss curves with their times."""
    check, race, s = result["check"], result["race"], result["settings"]
    st.markdown(_("Model: {model}. One batch of {n} training images through both:").format(
        model=result['name'], n=BATCH))
    table = pd.DataFrame([{_("what"): _what(what), _("largest |NumPy − PyTorch|"): _sci(diff),
                           _("largest value"): formats.num(scale), _("within 1e-4"): "✅" if diff <= twin.FLAG else "⚠️"}
                          for what, diff, scale in check.rows])
    st.dataframe(table, hide_index=True, width="stretch")
    flagged = check.flagged()
    if flagged:
        st.warning(_("Above 1e-4, more than float32 rounding: {what}.").format(
            what=", ".join(_what(row[0]) for row in flagged)), icon="⚠️")
    else:
        st.success(_("Same network: the largest difference is **{largest}**, float32 rounding (about 1e-7 of each "
                     "number; PyTorch adds the products in another order).").format(largest=_sci(check.largest)),
                   icon="✅")
    n = len(race.engine_losses)
    how = _("{optimizer}, lr {lr}").format(optimizer=_(formats.OPTIMIZER_NAMES[s.optimizer]), lr=num(s.lr))
    if s.l2:
        how = _("{optimizer}, lr {lr}, L2 {l2}").format(optimizer=_(formats.OPTIMIZER_NAMES[s.optimizer]),
                                                       lr=num(s.lr), l2=num(s.l2))
    st.markdown(ngettext("**Both trained {n} mini-batch** of {size} from the same weights, on the same batch ({how}, "
                         "one thread each):",
                         "**Both trained {n} mini-batches** of {size} from the same weights, on the same batches ({how}, "
                         "one thread each):", n).format(n=n, size=s.batch_size, how=how))
    c1, c2, c3 = st.columns(3)
    c1.metric(_("NumPy engine"), _("{seconds} s").format(seconds=formats.seconds_text(race.engine_seconds)))
    c2.metric(_("PyTorch"), _("{seconds} s").format(seconds=formats.seconds_text(race.torch_seconds)))
    c3.metric(_("Largest loss difference"), _sci(race.loss_diff),
              help=_("The weights at the end differ by at most {diff}. Rounding differences grow a little with every "
                     "step, fastest with Adam, which divides by each gradient's size.").format(
                  diff=_sci(race.weight_diff)))
    if race.note:
        st.warning(race.note)
    show_chart(st, charts.twin_loss_chart, race.engine_losses, race.torch_losses,
               _("NumPy engine ({seconds} s)").format(seconds=formats.seconds_text(race.engine_seconds)),
               _("PyTorch ({seconds} s)").format(seconds=formats.seconds_text(race.torch_seconds)))
    st.caption(_("The dashed PyTorch curve runs inside the engine's wide pale one: the same numbers, step after step. "
                 "Largest gap between them: {gap}.").format(gap=_sci(race.loss_diff)))
