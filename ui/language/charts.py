"""The Altair charts of the "From digits to words" pages: one builder per chart, drawn with
ui.chart_cache.show(where, builder, *args) like ui/charts.py's (tests/test_lm_charts.py checks
each against the Vega-Lite schema). Characters are shown by their label (texts.char_label):
a space as ␣, a line break as ↵."""
import altair as alt
import numpy as np
import pandas as pd

from i18n import _, num, pct
from ui.charts import _FIT_X, DIVERGING, TRAIN_COLOR, VAL_COLOR

INK = "#444444"


def _cells(matrix, rows, cols):
    m = np.asarray(matrix, dtype=float)
    r, c = np.indices(m.shape)
    return pd.DataFrame({"row": np.asarray(rows, dtype=object)[r.ravel()],
                         "col": np.asarray(cols, dtype=object)[c.ravel()], "value": m.ravel()})


def one_hot_chart(matrix, rows, cols, cell=16):
    """One-hot vectors as a grid: one row per character of a text, one column per id; the 1s dark."""
    df = _cells(matrix, rows, cols)
    df["text"] = np.where(df["value"] > 0, "1", "")
    every = 1 if len(cols) <= 30 else 5
    x = alt.X("col:N", sort=list(cols), title=_("id (one column per character of the vocabulary)"),
              axis=alt.Axis(labelAngle=0, labelFontSize=10, values=list(cols)[::every]))
    y = alt.Y("row:N", sort=list(rows), title=_("character"))
    cells = alt.Chart(df).mark_rect(stroke="#d1d5db", strokeWidth=0.5).encode(
        x=x, y=y, color=alt.Color("value:Q", scale=alt.Scale(domain=[0, 1], range=["#ffffff", "#1f4e89"]),
                                  legend=None),
        tooltip=[alt.Tooltip("row:N", title=_("character")), alt.Tooltip("col:N", title=_("id")),
                 alt.Tooltip("value:Q", title=_("value"))])
    ones = alt.Chart(df[df["value"] > 0]).mark_text(color="white", fontSize=10, fontWeight="bold").encode(
        x=x, y=y, text=alt.Text("text:N"))
    words = (_("One-hot vectors: {rows} rows, one per character, {cols} columns, one per id").format(
        rows=len(rows), cols=len(cols)) + "; "
        + "; ".join(_("{row}: 1 at id {id}").format(row=r, id=cols[int(np.argmax(v))])
                    for r, v in zip(rows, np.asarray(matrix))))
    return alt.layer(cells, ones, height=cell * len(rows), autosize=_FIT_X, description=words)


def count_table_chart(counts, labels, title, size=560):
    """The bigram count table: row = this character, column = the next one; darker = more often
    (a log scale: a few pairs are thousands of times commoner than most)."""
    df = _cells(counts, labels, labels)
    df = df.rename(columns={"row": "this", "col": "next", "value": "count"})
    df["shade"] = np.log10(df["count"] + 1)
    top = float(df["shade"].max()) or 1.0
    n = len(labels)
    x = alt.X("next:N", sort=list(labels), title=_("next character"),
              axis=alt.Axis(labelAngle=0, orient="top", labelOverlap=n > 30))
    y = alt.Y("this:N", sort=list(labels), title=_("this character"), axis=alt.Axis(labelOverlap=n > 30))
    ticks = [float(np.log10(c + 1)) for c in (0, 10, 100, 1_000, 10_000, 100_000) if np.log10(c + 1) <= top]
    words = _("{title}: a {n}×{n} heat map of counts; the largest: {pairs}").format(title=title, n=n, pairs=", ".join(
        _("{this} then {next} {count}").format(this=r.this, next=r.next, count=num(int(r.count)))
        for r in df.nlargest(5, "count").itertuples()))
    return alt.Chart(df, width=size, height=size, title=title, description=words).mark_rect().encode(
        x=x, y=y,
        color=alt.Color("shade:Q", title=_("count"), scale=alt.Scale(scheme="blues", domain=[0, top]),
                        legend=alt.Legend(title=_("count"), values=ticks,
                                          labelExpr="format(round(pow(10, datum.value) - 1), ',d')")),
        tooltip=[alt.Tooltip("this:N", title=_("this character")), alt.Tooltip("next:N", title=_("next character")),
                 alt.Tooltip("count:Q", title=_("count"), format=",d")])


def probability_table_chart(P, labels, title, diverging=False, size=300):
    """A table of next-character probabilities (or, diverging=True, a difference of two
    such tables: blue below 0, orange above)."""
    df = _cells(P, labels, labels).rename(columns={"row": "this", "col": "next"})
    x = alt.X("next:N", sort=list(labels), title=_("next character"),
              axis=alt.Axis(labelAngle=0, labelFontSize=8, orient="top"))
    y = alt.Y("this:N", sort=list(labels), title=_("this character"), axis=alt.Axis(labelFontSize=8))
    if diverging:
        lim = float(np.abs(df["value"]).max()) or 1e-9
        scale = alt.Scale(scheme=DIVERGING, domain=[-lim, lim], domainMid=0)
        legend = alt.Legend(title=_("difference"), format=".1e" if lim < 0.01 else ".3f", orient="bottom")
    else:
        scale = alt.Scale(scheme="blues", domain=[0, 1])
        legend = alt.Legend(title=_("probability"), format=".0%", orient="bottom")
    words = (_("{title}: a {n}×{n} heat map of differences of next-character probabilities, rows: this character, "
               "columns: the next one") if diverging else
             _("{title}: a {n}×{n} heat map of next-character probabilities, rows: this character, columns: the next "
               "one")).format(title=title, n=len(labels))
    return alt.Chart(df, width=size, height=size, title=title, description=words).mark_rect().encode(
        x=x, y=y, color=alt.Color("value:Q", title=_("difference") if diverging else _("probability"), scale=scale,
                                  legend=legend),
        tooltip=[alt.Tooltip("this:N", title=_("this character")), alt.Tooltip("next:N", title=_("next character")),
                 alt.Tooltip("value:Q", title=_("difference") if diverging else _("probability"), format=".6f")])


def next_probs_chart(probs, labels, title, height=220):
    """The next character's probabilities after one character: one bar per character."""
    probs = np.asarray(probs, dtype=float)
    df = pd.DataFrame({"next": list(labels), "probability": probs})
    x = alt.X("next:N", sort=list(labels), title=_("next character"), axis=alt.Axis(labelAngle=0))
    y = alt.Y("probability:Q", title=_("probability"), axis=alt.Axis(format=".0%"))
    top = df.nlargest(5, "probability")
    words = _("{title}: bar chart; the most likely: {chars}").format(title=title, chars=", ".join(
        f"{r.next} {pct(r.probability, 1)}" for r in top.itertuples()))
    bars = alt.Chart(df).mark_bar(color=TRAIN_COLOR).encode(
        x=x, y=y, tooltip=[alt.Tooltip("next:N", title=_("next character")),
                           alt.Tooltip("probability:Q", title=_("probability"), format=".2%")])
    return alt.layer(bars, height=height, title=title, autosize=_FIT_X, description=words)


def fit_loss_chart(losses, best, height=230):
    """The network's loss on the whole training text at each step of gradient descent, and the
    count table's (the lowest a bigram model can reach) as a dashed line."""
    df = pd.DataFrame({"step": np.arange(len(losses)), "loss": np.asarray(losses, dtype=float)})
    line = alt.Chart(df).mark_line(color=TRAIN_COLOR, point=len(df) < 30).encode(
        x=alt.X("step:Q", title=_("step of gradient descent"), axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("loss:Q", title=_("loss (nats per character)"), scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("step:Q", title=_("step")), alt.Tooltip("loss:Q", title=_("loss"), format=".4f")])
    floor = pd.DataFrame({"loss": [float(best)], "text": [_("count table: {loss}").format(loss=num(best, 4))]})
    rule = alt.Chart(floor).mark_rule(color=VAL_COLOR, strokeDash=[6, 4], strokeWidth=2).encode(
        y=alt.Y("loss:Q", title=_("loss (nats per character)")))
    label = alt.Chart(floor).mark_text(align="right", dy=-8, color="#9a4a00", fontSize=12).encode(
        y=alt.Y("loss:Q", title=_("loss (nats per character)")), x=alt.XValue("width"), text=alt.Text("text:N"))
    title = _("The network's loss on the training part")
    words = _("{title}: from {first} at step 0 to {last} at step {n}; the count table's loss {best}").format(
        title=title, first=num(losses[0], 4), last=num(losses[-1], 4), n=num(len(losses) - 1),
        best=num(best, 4)) if len(losses) else title
    return alt.layer(line, rule, label, height=height, title=title, autosize=_FIT_X, description=words)


def merges_chart(lengths, k, height=230):
    """Tokens in the BPE training text after each merge, with the merge shown now marked."""
    df = pd.DataFrame({"merges": np.arange(len(lengths)), "tokens": np.asarray(lengths, dtype=int)})
    x = alt.X("merges:Q", title=_("merges"), axis=alt.Axis(format="d"))
    y = alt.Y("tokens:Q", title=_("tokens"), scale=alt.Scale(zero=True), axis=alt.Axis(format=",d"))
    line = alt.Chart(df).mark_line(color=TRAIN_COLOR).encode(
        x=x, y=y, tooltip=[alt.Tooltip("merges:Q", title=_("merges")),
                           alt.Tooltip("tokens:Q", title=_("tokens"), format=",d")])
    here = alt.Chart(df.iloc[[k]]).mark_point(color=VAL_COLOR, size=120, filled=True).encode(x=x, y=y)
    title = _("Tokens in the training sample, merge by merge")
    words = _("{title}: {bytes} bytes at 0 merges, {now} tokens after {k}, {last} after {n}").format(
        title=title, bytes=num(lengths[0]), now=num(lengths[k]), k=num(k), last=num(lengths[-1]),
        n=num(len(lengths) - 1))
    return alt.layer(line, here, height=height, title=title, autosize=_FIT_X, description=words)


def lm_loss_chart(steps, losses, records, marks=(), height=260, max_points=300):
    """A language-model run's loss: every training step's (thin line), and at each evaluation the training
    loss averaged since the last one and the validation loss (points), in nats per character.
    marks: (step, text) for each setting changed during the run."""
    from ui.charts import MARK_COLOR, _thin
    s, l = _thin(steps, losses, max_points)
    step_df = pd.DataFrame({"step": s, "loss": l})
    parts = (_("training"), _("validation"))
    rows = [{"step": r["step"], "part": part, "loss": r[key]} for r in records
            for part, key in ((parts[0], "train_loss"),
                              (parts[1], "val_loss"))]
    eval_df = pd.DataFrame(rows, columns=["step", "part", "loss"])
    x = alt.X("step:Q", title=_("step (one mini-batch each)"), axis=alt.Axis(format=",d", tickMinStep=1))
    y = alt.Y("loss:Q", title=_("loss (nats per character)"), scale=alt.Scale(zero=True))
    line = alt.Chart(step_df).mark_line(color="#9db7d5", strokeWidth=1, clip=True).encode(
        x=x, y=y, tooltip=[alt.Tooltip("step:Q", title=_("step"), format=","),
                           alt.Tooltip("loss:Q", title=_("loss"), format=".4f")])
    points = alt.Chart(eval_df).mark_line(point=True, strokeWidth=2.5).encode(
        x=x, y=y, color=alt.Color("part:N", title=_("part"), scale=alt.Scale(domain=list(parts),
                                                             range=[TRAIN_COLOR, VAL_COLOR]),
                                  legend=alt.Legend(title=None, orient="top", direction="horizontal")),
        tooltip=[alt.Tooltip("step:Q", title=_("step"), format=","), alt.Tooltip("part:N", title=_("part")),
                 alt.Tooltip("loss:Q", title=_("loss"), format=".4f")])
    layers = [line, points]
    if marks:
        changes = pd.DataFrame(list(marks), columns=["step", "change"])
        layers.append(alt.Chart(changes).mark_rule(color=MARK_COLOR, strokeDash=[4, 3]).encode(
            x=alt.X("step:Q"), tooltip=[alt.Tooltip("step:Q", title=_("step"), format=","),
                                        alt.Tooltip("change:N", title=_("change"))]))
    title = _("Loss while it learns")
    words = _("{title}: line chart of the loss of each step, in nats per character").format(title=title)
    if len(l):
        words += "; " + _("from {first} at step {a} to {last} at step {b}").format(
            first=num(l[0], 4), a=num(int(s[0])), last=num(l[-1], 4), b=num(int(s[-1])))
    if records:
        words += "; " + _("at step {step} the training loss is {train} and the validation loss {val}").format(
            step=num(records[-1]['step']), train=num(records[-1]['train_loss'], 4),
            val=num(records[-1]['val_loss'], 4))
    return alt.layer(*layers, height=height, title=title, autosize=_FIT_X, description=words)
