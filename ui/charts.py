"""The Altair charts of the app: one builder per chart, so pages stay thin and look alike.

Every public function here is a chart builder (tests/test_charts.py checks each
against the Vega-Lite schema). One colour per digit everywhere (DIGIT_COLORS).
Pages draw a chart with ui.chart_cache.show(where, builder, *args), never
st.altair_chart: see ui/chart_cache.py for why. Pictures for st.image are in
ui/pictures.py.
"""
import altair as alt
import numpy as np
import pandas as pd

from i18n import _, num, pct
from ui.formats import sure_text, value_text

# Petroff's ten-colour sequence (arXiv:2107.02270, matplotlib's "petroff10"), chosen so that
# all ten stay apart for people with red-green (protan, deutan) or blue-yellow (tritan)
# colour blindness: simulated, every pair differs by ΔE > 15 (tests/test_a11y.py). The
# Tableau-10 shades used before made 2 and 4 (red, green) the same colour for deutans.
# Words written in a digit's colour use ui.a11y.readable(), a darker shade that passes WCAG AA.
DIGIT_COLORS = ["#3f90da", "#ffa90e", "#bd1f01", "#94a4a2", "#832db6",
                "#a96b59", "#e76300", "#b9ac70", "#717581", "#92dadd"]
DIGITS = [str(d) for d in range(10)]


def _pairs(names, values):
    """'0: 5,923, 1: 6,742, ...': a chart's numbers in words (its description, for screen readers)."""
    return ", ".join(f"{n}: {v}" for n, v in zip(names, values))


def _fmt(value, what):
    return pct(value, 1) if what == "acc" else num(value, 4)


def _digit_scale():
    """Altair colour scale mapping '0'..'9' to DIGIT_COLORS."""
    return alt.Scale(domain=DIGITS, range=DIGIT_COLORS)


# Every channel below is a typed object (alt.X("col:O"), alt.Tooltip(...), alt.ColorValue(...)),
# never a plain string or alt.value()/alt.condition(): Altair turns those into channel
# objects by searching its whole schema, 5-15 ms each, 100 times slower. Colours that
# depend on a value are worked out in the DataFrame and drawn with scale=None.
# Layers are separate alt.Chart()s joined once with alt.layer(..., height=, title=):
# `a + b` and .properties() on a layered chart deep-copy every layer, 10-40 ms a time.

# ---------------------------------------------------------------- teaching pages
# (Dataset, One-hot, How it learns.) Pictures are drawn as "ink on paper":
# pixel 0 (no ink) is white, 255 (full ink) is black.

PAPER_INK = alt.Scale(domain=[0, 255], range=["#ffffff", "#111111"])
DIVERGING = "blueorange"   # negative = blue, 0 = white-ish, positive = orange
LIT, DARK = "#f5b700", "#3b3f46"


def class_bar_chart(counts, title, height=220):
    """Bar chart of how many examples each digit has."""
    df = pd.DataFrame({"digit": DIGITS, "examples": np.asarray(counts, dtype=int)})
    x = alt.X("digit:N", title=_("digit"), axis=alt.Axis(labelAngle=0))
    y = alt.Y("examples:Q", title=_("examples"))
    bars = alt.Chart(df).mark_bar().encode(
        x=x, y=y, color=alt.Color("digit:N", scale=_digit_scale(), legend=None),
        tooltip=[alt.Tooltip("digit:N", title=_("digit")), alt.Tooltip("examples:Q", format=",", title=_("examples"))],
    )
    text = alt.Chart(df).mark_text(dy=-6, fontSize=11, color="#444").encode(
        x=x, y=y, text=alt.Text("examples:Q", format=","))
    words = _("{title}. Bar chart of the examples of each digit: {pairs}").format(
        title=title, pairs=_pairs(DIGITS, [num(c) for c in df["examples"]]))
    return alt.layer(bars, text, title=title, height=height, description=words)


def pixel_grid_chart(pixels, size=560):
    """One digit as a 28x28 heat map, with each 0-255 value written in its cell."""
    img = np.asarray(pixels).reshape(28, 28)
    rows, cols = np.indices(img.shape)
    df = pd.DataFrame({"row": rows.ravel(), "col": cols.ravel(), "value": img.ravel().astype(int)})
    # The number's colour: white on dark cells, light grey for the many zeros, else black.
    df["ink"] = np.where(df["value"] > 110, "white", np.where(df["value"] == 0, "#c9ccd1", "black"))
    x = alt.X("col:O", title=_("column"), axis=alt.Axis(labelAngle=0, labelFontSize=8, values=list(range(0, 28, 3))))
    y = alt.Y("row:O", title=_("row"), axis=alt.Axis(labelFontSize=8, values=list(range(0, 28, 3))))
    cells = alt.Chart(df).mark_rect(stroke="#e5e7eb", strokeWidth=0.3).encode(
        x=x, y=y, color=alt.Color("value:Q", scale=PAPER_INK, title=_("ink 0-255"), legend=alt.Legend(title=_("ink 0-255"))),
        tooltip=[alt.Tooltip("row:O", title=_("row")), alt.Tooltip("col:O", title=_("column")), alt.Tooltip("value:Q", title=_("value"))],
    )
    numbers = alt.Chart(df).mark_text(fontSize=max(6, size // 75)).encode(
        x=x, y=y, text=alt.Text("value:Q"), color=alt.Color("ink:N", scale=None, legend=None))
    # The numbers' colours (scale=None) must not be merged with the cells' ink scale.
    return alt.layer(cells, numbers, width=size, height=size,
                     resolve=alt.Resolve(scale=alt.ScaleResolveMap(color="independent")))


def flat_strip_chart(pixels, height=100):
    """The same digit as one long row of 784 numbers (a 1-pixel-high heat map).

    Tick marks show where each of the 28 image rows starts."""
    x = np.asarray(pixels).ravel().astype(int)
    df = pd.DataFrame({"index": np.arange(x.size), "value": x})
    df["end"] = df["index"] + 1
    df["row"], df["col"] = df["index"] // 28, df["index"] % 28
    df["strip"] = "x"
    return alt.Chart(df, height=height).mark_rect().encode(
        y=alt.Y("strip:N", axis=None),
        x=alt.X("index:Q", title=_("position in the 784-long row (a new image row starts every 28)"),
                scale=alt.Scale(domain=[0, x.size], nice=False),
                axis=alt.Axis(values=list(range(0, x.size + 1, 56)), grid=False)),
        x2=alt.X2("end"),
        color=alt.Color("value:Q", scale=PAPER_INK, legend=None),
        tooltip=[alt.Tooltip("index:Q", title=_("position")), alt.Tooltip("row:O", title=_("row")), alt.Tooltip("col:O", title=_("column")),
                 alt.Tooltip("value:Q", title=_("value"))],
    )


def digit_pictures_chart(images, titles, size=110, diverging=False, columns=10):
    """Several 28x28 pictures side by side (mean images, gradient maps...).

    diverging=False: ink scale 0..255. diverging=True: blue (negative) to
    orange (positive) around 0, one shared colour scale so pictures compare."""
    images = np.asarray(images, dtype=np.float32).reshape(len(images), 28, 28)
    rows, cols = np.indices((28, 28))
    frames = []
    for img, title in zip(images, titles):
        frames.append(pd.DataFrame({"row": rows.ravel(), "col": cols.ravel(),
                                    "value": img.ravel(), "picture": title}))
    df = pd.concat(frames, ignore_index=True)
    if diverging:
        m = float(np.abs(images).max()) or 1.0
        scale = alt.Scale(scheme=DIVERGING, domain=[-m, m], domainMid=0)
        legend = alt.Legend(title=_("value"), format=".1e" if m < 0.01 else ".2f", orient="right")
    else:
        scale, legend = PAPER_INK, None
    return alt.Chart(df, width=size, height=size).mark_rect().encode(
        x=alt.X("col:O", axis=None),
        y=alt.Y("row:O", axis=None),
        color=alt.Color("value:Q", scale=scale, legend=legend, title=_("value")),
        tooltip=[alt.Tooltip("picture:N", title=_("picture")), alt.Tooltip("row:O", title=_("row")), alt.Tooltip("col:O", title=_("column")),
                 alt.Tooltip("value:Q", format=".4g", title=_("value"))],
    ).facet(
        facet=alt.Facet("picture:N", title=None, sort=list(titles),
                        header=alt.Header(labelFontSize=13, labelFontWeight="bold")),
        columns=columns, config=alt.Config(view=alt.ViewConfig(stroke="#d1d5db")),
    )


def pixel_histogram_chart(counts, height=260):
    """How often each pixel value 0..255 occurs (log scale: 0 dominates)."""
    counts = np.asarray(counts)
    df = pd.DataFrame({"value": np.arange(counts.size), "pixels": counts})
    df = df[df["pixels"] > 0]
    df["end"] = df["value"] + 1
    return alt.Chart(df, height=height).mark_rect(stroke="#9ca3af", strokeWidth=0.2).encode(
        x=alt.X("value:Q", title=_("pixel value (0 = paper, 255 = full ink)"), scale=alt.Scale(domain=[0, 256], nice=False)),
        x2=alt.X2("end"),
        y=alt.Y("pixels:Q", title=_("number of pixels (log scale)"), scale=alt.Scale(type="log")),
        y2=alt.Y2Datum(1),
        color=alt.Color("value:Q", scale=alt.Scale(domain=[0, 255], range=["#c7cbd1", "#111111"]), legend=None),
        tooltip=[alt.Tooltip("value:Q", title=_("value")), alt.Tooltip("pixels:Q", format=",", title=_("pixels"))],
    )


def neurons_chart(values, title=None, height=120):
    """A layer of output neurons drawn as circles: bright (warm yellow) = value near 1, dark = 0.

    values: one number in [0, 1] per neuron (a one-hot label or a network output)."""
    values = np.asarray(values, dtype=float)
    names = [str(i) for i in range(values.size)]
    df = pd.DataFrame({"neuron": names, "value": values,
                       "shown": np.clip(values, 0, 1),
                       "text": [value_text(v) for v in values]})
    df["ink"] = np.where(df["shown"] > 0.45, "#111111", "#ffffff")   # dark text on a bright neuron
    x = alt.X("neuron:N", sort=names, title=_("output neuron"), axis=alt.Axis(labelAngle=0, labelFontSize=13, ticks=False, domain=False))
    dark = alt.Chart(df).mark_circle(size=1500, color=DARK, opacity=1).encode(x=x)
    lit = alt.Chart(df).mark_circle(size=1500).encode(
        x=x, color=alt.ColorValue(LIT), opacity=alt.Opacity("shown:Q", scale=alt.Scale(domain=[0, 1], range=[0, 1]), legend=None),
        tooltip=[alt.Tooltip("neuron:N", title=_("neuron")), alt.Tooltip("value:Q", format=".4f", title=_("value"))])
    text = alt.Chart(df).mark_text(fontSize=12, fontWeight="bold").encode(
        x=x, text=alt.Text("text:N"), color=alt.Color("ink:N", scale=None, legend=None))
    return alt.layer(dark, lit, text, height=height, title=title or alt.Undefined)


def loss_terms_chart(df, title, color, height=200, fmt=".3f"):
    """Each neuron's share of a loss. df: columns neuron (str) and term (float)."""
    names = list(df["neuron"])
    x = alt.X("neuron:N", sort=names, title=_("output neuron"), axis=alt.Axis(labelAngle=0))
    y = alt.Y("term:Q", title=_("loss term"))
    bars = alt.Chart(df).mark_bar(color=color).encode(
        x=x, y=y, tooltip=[alt.Tooltip("neuron:N", title=_("neuron")), alt.Tooltip("term:Q", format=".4f", title=_("loss term"))])
    text = alt.Chart(df).mark_text(dy=-6, fontSize=10, color="#444").encode(
        x=x, y=y, text=alt.Text("term:Q", format=fmt))
    return alt.layer(bars, text, title=title, height=height)


def vector_bars_chart(values, title=None, height=230, digits=False, highlight=None, fmt=".3f"):
    """A layer's numbers (z or a) as bars, one per unit; digit colours for a 10-output layer."""
    values = np.asarray(values, dtype=float).ravel()
    df = pd.DataFrame({"unit": np.arange(values.size), "value": values})
    df["digit"] = df["unit"].astype(str)
    df["sign"] = np.where(values >= 0, "#f28e2b", "#4e79a7")      # orange positive, blue negative
    if digits:
        x = alt.X("digit:N", sort=DIGITS, title=_("output neuron (digit)"), axis=alt.Axis(labelAngle=0))
        color = alt.Color("digit:N", scale=_digit_scale(), legend=None)
    else:
        x = alt.X("unit:O", title=_("unit (0-{last})").format(last=values.size - 1),
                  axis=alt.Axis(labels=values.size <= 32, ticks=values.size <= 32))
        color = alt.Color("sign:N", scale=None, legend=None)
    y = alt.Y("value:Q", title=None)
    layers = [alt.Chart(df).mark_bar().encode(
        x=x, y=y, color=color, tooltip=[alt.Tooltip("unit:O", title=_("unit")), alt.Tooltip("value:Q", format=".4f", title=_("value"))])]
    if digits:
        layers.append(alt.Chart(df).mark_text(dy=-7, fontSize=10, color="#444").encode(
            x=x, y=y, text=alt.Text("value:Q", format=fmt)))
    if highlight is not None:     # a grey band behind the true digit
        mark = pd.DataFrame({"digit": [str(highlight)]})
        layers.insert(0, alt.Chart(mark).mark_rect(opacity=0.12, color="#888").encode(
            x=alt.X("digit:N", sort=DIGITS, title=_("output neuron (digit)"))))
    return alt.layer(*layers, height=height, title=title or alt.Undefined)


def matrix_heat_chart(matrix, title=None, row_name=None, col_name=None, height=220):
    """A weight or gradient matrix (n_out, n_in) as a heat map around 0 (blue -, orange +)."""
    row_name = _("output neuron") if row_name is None else row_name
    col_name = _("hidden unit") if col_name is None else col_name
    m = np.asarray(matrix, dtype=float)
    r, c = np.indices(m.shape)
    df = pd.DataFrame({"row": r.ravel(), "col": c.ravel(), "value": m.ravel()})
    lim = float(np.abs(m).max()) or 1.0
    return alt.Chart(df, height=height, title=title or alt.Undefined).mark_rect().encode(
        x=alt.X("col:O", title=f"{col_name} (0-{m.shape[1] - 1})", axis=alt.Axis(labels=m.shape[1] <= 32, ticks=False)),
        y=alt.Y("row:O", title=row_name),
        color=alt.Color("value:Q", scale=alt.Scale(scheme=DIVERGING, domain=[-lim, lim], domainMid=0), title=_("value"),
                        legend=alt.Legend(title=_("value"), format=".1e" if lim < 0.01 else ".2f")),
        tooltip=[alt.Tooltip("row:O", title=row_name), alt.Tooltip("col:O", title=col_name),
                 alt.Tooltip("value:Q", format=".3e", title=_("value"))],
    )


def before_after_chart(before, after, label, height=230):
    """The 10 outputs before and after one update step, side by side per digit."""
    df = pd.concat([
        pd.DataFrame({"digit": DIGITS, "output": np.asarray(before, float), "when": "1 " + _("before")}),
        pd.DataFrame({"digit": DIGITS, "output": np.asarray(after, float), "when": "2 " + _("after")}),
    ])
    df["true"] = df["digit"] == str(label)
    return alt.Chart(df, height=height).mark_bar().encode(
        x=alt.X("digit:N", sort=DIGITS, title=_("output neuron (digit)"), axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("when:N"),
        y=alt.Y("output:Q", title=_("output")),
        color=alt.Color("when:N", scale=alt.Scale(domain=["1 " + _("before"), "2 " + _("after")],
                                                  range=["#bab0ac", "#59a14f"]), title=None,
                        legend=alt.Legend(title=None, orient="top", labelExpr="slice(datum.label, 2)")),
        tooltip=[alt.Tooltip("digit:N", title=_("digit")), alt.Tooltip("when:N", title=_("when")), alt.Tooltip("output:Q", format=".4f", title=_("output"))],
    )


def step_loss_chart(losses, height=200):
    """The loss on one image after each update step (step 0 = before any step)."""
    df = pd.DataFrame({"step": np.arange(len(losses)), "loss": np.asarray(losses, float)})
    chart = alt.Chart(df, height=height, title=_("Loss on this image, step by step"))
    return chart.mark_line(point=alt.OverlayMarkDef(color="#e15759", size=60), color="#e15759").encode(
        x=alt.X("step:O", title=_("step"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("loss:Q", title=_("loss on this image")),
        tooltip=[alt.Tooltip("step:O", title=_("step")), alt.Tooltip("loss:Q", format=".4g", title=_("loss"))],
    )


# ---------------------------------------------------------------- train / evaluate / draw

TRAIN_COLOR, VAL_COLOR = "#4e79a7", "#f28e2b"
MARK_COLOR = "#555555"      # a setting changed mid-run (dark grey: readable on white)
# Stretch to the column's width but keep `height` for the plot itself (Streamlit's
# default "fit" squeezes the plot to make room for titles and legends).
_FIT_X = alt.AutoSizeParams(type="fit-x", contains="padding")


def _thin(x, y, max_points):
    """Every k-th point so a live chart never sends more than max_points."""
    k = max(1, -(-len(x) // max_points))
    return np.asarray(x)[::k], np.asarray(y, dtype=float)[::k]


def batch_loss_chart(steps, losses, height=230, max_points=300, marks=()):
    """Loss of every mini-batch (averaged once the run is long) against the batch number.

    marks: (batch, text) for each setting changed during the run: a dashed line there."""
    s, l = _thin(steps, losses, max_points)
    df = pd.DataFrame({"batch": s, "loss": l})
    title = _("Loss of each mini-batch")
    words = (_("{title}: line chart, from {first} at batch {first_batch} to {last} at batch {last_batch}").format(
                title=title, first=num(l[0], 4), first_batch=num(s[0]), last=num(l[-1], 4), last_batch=num(s[-1]))
             if len(df) else _("{title}: no batches yet").format(title=title))
    line = (alt.Chart(df) if marks else alt.Chart(df, height=height, title=title, autosize=_FIT_X, description=words)).mark_line(color=TRAIN_COLOR, strokeWidth=1.2, clip=True, point=len(df) < 20).encode(
        x=alt.X("batch:Q", title=_("mini-batch"), axis=alt.Axis(format=",d", tickMinStep=1)),
        y=alt.Y("loss:Q", title=_("loss"), scale=alt.Scale(zero=True)),
        tooltip=[alt.Tooltip("batch:Q", format=",", title=_("mini-batch")),
                 alt.Tooltip("loss:Q", format=".4f", title=_("loss"))],
    )
    if not marks:
        return line
    changes = pd.DataFrame([m[:2] for m in marks], columns=["batch", "change"])    # (batch, words, values)
    rules = alt.Chart(changes).mark_rule(color=MARK_COLOR, strokeDash=[4, 3]).encode(
        x=alt.X("batch:Q", title=_("mini-batch")), tooltip=[alt.Tooltip("batch:Q", format=",", title=_("mini-batch")), alt.Tooltip("change:N", title=_("change"))])
    labels = alt.Chart(changes).mark_text(color=MARK_COLOR, align="left", baseline="top", dx=3, dy=2,
                                         fontSize=11).encode(x=alt.X("batch:Q", title=_("mini-batch")), y=alt.value(0),
                                                             text=alt.Text("change:N"))
    return alt.layer(line, rules, labels, height=height, title=title, autosize=_FIT_X, description=words)


def epoch_chart(epochs, what="loss", height=230, total_epochs=None):
    """Per-epoch train vs validation loss (what='loss') or accuracy (what='acc')."""
    rows = []
    for e in epochs:
        rows.append({"epoch": e["epoch"], "set": _("training"), "value": e[f"train_{what}"]})
        if f"val_{what}" in e:
            rows.append({"epoch": e["epoch"], "set": _("validation"), "value": e[f"val_{what}"]})
    df = pd.DataFrame(rows, columns=["epoch", "set", "value"])
    name = _("loss") if what == "loss" else _("accuracy")
    title = _("Loss per epoch") if what == "loss" else _("Accuracy per epoch")
    # Short runs show their whole length from the start; long runs grow the axis as
    # they go, so 200 planned epochs don't squeeze the first ten against the edge.
    done = epochs[-1]["epoch"] if epochs else 1
    upper = min(total_epochs, max(10, done + 1)) if total_epochs else None
    x_scale = alt.Scale(domain=[1, max(2, upper)], nice=False) if upper else alt.Scale()
    y_axis = alt.Axis(format=".1%" if what == "acc" else "", tickCount=5)
    y_scale = alt.Scale(zero=False) if what == "acc" else alt.Scale(zero=True)
    sets = [(_("training"), "train"), (_("validation"), "val")]
    words = _("{title}: line chart").format(title=title) + "".join(
        _("; epoch {epoch}: {pairs}").format(
            epoch=e["epoch"], pairs=_pairs([n for n, s in sets if f"{s}_{what}" in e],
                                           [_fmt(e[f"{s}_{what}"], what) for _n, s in sets if f"{s}_{what}" in e]))
        for e in epochs[-3:])
    chart = alt.Chart(df, height=height, title=title, autosize=_FIT_X, description=words)
    return chart.mark_line(point=True).encode(
        x=alt.X("epoch:Q", title=_("epoch"), scale=x_scale, axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("value:Q", title=name, axis=y_axis, scale=y_scale),
        color=alt.Color("set:N", scale=alt.Scale(domain=[_("training"), _("validation")], range=[TRAIN_COLOR, VAL_COLOR]), title=None,
                        legend=alt.Legend(title=None, orient="top", direction="horizontal")),
        # Tooltip objects, not plain strings: Altair turns strings into channels the slow way.
        tooltip=[alt.Tooltip("epoch:Q", title=_("epoch")), alt.Tooltip("set:N", title=_("set")),
                 alt.Tooltip("value:Q", format=".2%" if what == "acc" else ".4f", title=name)],
    )


def compare_chart(df, x_title, y_title, title, percent=False, height=360, points=True):
    """Several runs' curves in one chart: df has columns run, x, value; one colour per run."""
    y_axis = alt.Axis(format=".0%" if percent else "", tickCount=6)
    chart = alt.Chart(df, height=height, title=title, autosize=_FIT_X)
    return chart.mark_line(point=points, clip=True, strokeWidth=2).encode(
        x=alt.X("x:Q", title=x_title, axis=alt.Axis(tickMinStep=1) if points else alt.Axis()),
        y=alt.Y("value:Q", title=y_title, axis=y_axis, scale=alt.Scale(zero=not percent)),
        color=alt.Color("run:N", title=None, scale=alt.Scale(scheme="tableau10"),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=420)),
        tooltip=[alt.Tooltip("run:N", title=_("run")), alt.Tooltip("x:Q", title=x_title, format=",.2f"),
                 alt.Tooltip("value:Q", title=y_title, format=".2%" if percent else ".4f")],
    )


def confusion_chart(cm, normalise=False, selected=None, size=430, name="cm_cell"):
    """The confusion matrix as a heat map: rows = true digit, columns = predicted.

    Right answers (the diagonal) are green; mistakes are shaded orange by how
    many there are. normalise=True labels and shades each cell by its share of
    the row, i.e. of the images of that true digit. `selected` = (true,
    predicted) draws a frame around that cell. Clicking a cell selects it
    (point selection `name`, fields true and predicted)."""
    cm = np.asarray(cm)
    t, p = np.indices(cm.shape)
    totals = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, totals, out=np.zeros(cm.shape, float), where=totals > 0)
    df = pd.DataFrame({"true": t.ravel().astype(str), "predicted": p.ravel().astype(str),
                       "count": cm.ravel().astype(int), "share": share.ravel(),
                       "kind": np.where((t == p).ravel(), "right", "wrong")})
    field = "share" if normalise else "count"
    df["label"] = [pct(v, 0) if normalise else num(c) for v, c in zip(df["share"], df["count"])]
    df.loc[df["count"] == 0, "label"] = ""
    wrong = df[(df["kind"] == "wrong") & (df["count"] > 0)]
    top = float(wrong[field].max()) if len(wrong) else 1.0
    df["ink"] = np.where((df["kind"] == "wrong") & (df[field] > top * 0.6), "white", "#222")  # text on dark cells
    pick = alt.selection_point(name=name, fields=["true", "predicted"], on="click", clear=False)
    x = alt.X("predicted:N", sort=DIGITS, title=_("predicted digit"), axis=alt.Axis(labelAngle=0, orient="top"))
    y = alt.Y("true:N", sort=DIGITS, title=_("true digit"))
    tooltip = [alt.Tooltip("true:N", title=_("true digit")), alt.Tooltip("predicted:N", title=_("predicted digit")),
               alt.Tooltip("count:Q", format=",", title=_("images")),
               alt.Tooltip("share:Q", format=".1%", title=_("share of true digit"))]
    # Every cell: green (right) or white (no mistakes there).
    cells = alt.Chart(df).mark_rect(stroke="#e5e7eb", strokeWidth=1).encode(
        x=x, y=y,
        color=alt.Color("kind:N", scale=alt.Scale(domain=["right", "wrong"], range=["#a1d99b", "#ffffff"]),
                        legend=None),
    )
    mistakes = alt.Chart(wrong).mark_rect(stroke="#e5e7eb", strokeWidth=1).encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color(f"{field}:Q", scale=alt.Scale(scheme="oranges", domain=[0, top]), title=_("mistakes"),
                        legend=alt.Legend(title=_("mistakes"), format=".0%" if normalise else ",d")),
    )
    text = alt.Chart(df).mark_text(fontSize=12).encode(
        x=x, y=y, text=alt.Text("label:N"), color=alt.Color("ink:N", scale=None, legend=None))
    # No mistakes (a small class set read perfectly): no mistakes layer, whose empty mark group
    # would be an unnamed graphic for a screen reader (axe: svg-img-alt).
    layers = [cells, mistakes, text] if len(wrong) else [cells, text]
    if selected is not None:
        mark = pd.DataFrame({"true": [str(selected[0])], "predicted": [str(selected[1])]})
        layers.append(alt.Chart(mark).mark_rect(fill=None, stroke="#111", strokeWidth=3).encode(x=x, y=y))
    # On top, an invisible cell per (true, predicted) that receives the clicks and tooltips.
    layers.append(alt.Chart(df).mark_rect(fill="#ffffff", fillOpacity=0.01, cursor="pointer").encode(
        x=x, y=y, tooltip=tooltip).add_params(pick))
    worst = wrong.sort_values("count", ascending=False, kind="stable").head(3)
    mistakes = ", ".join(_("true {t} read as {p} ({n})").format(t=r.true, p=r.predicted, n=num(r.count))
                         for r in worst.itertuples()) or _("none")
    words = _("Confusion matrix: {right} of {n} test images right. Most common mistakes: {mistakes}. The table below "
              "the chart has every cell.").format(right=num(int(np.trace(cm))), n=num(int(cm.sum())), mistakes=mistakes)
    return alt.layer(*layers, width=size, height=size, description=words)


def probability_chart(probs, is_probability=True, height=240, title=None):
    """The ten outputs of the network as bars in the digit colours, the winner labelled."""
    probs = np.asarray(probs, dtype=float).ravel()
    df = pd.DataFrame({"digit": DIGITS, "value": probs})
    df["text"] = [sure_text(v) if is_probability else num(v, 2) for v in probs]
    y_title = _("probability") if is_probability else _("output (sigmoid)")
    x = alt.X("digit:N", sort=DIGITS, title=_("digit"), axis=alt.Axis(labelAngle=0, labelFontSize=14))
    y = alt.Y("value:Q", title=y_title, scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format=".0%" if is_probability else ".1f"))
    bars = alt.Chart(df).mark_bar().encode(
        x=x, y=y, color=alt.Color("digit:N", scale=_digit_scale(), legend=None),
        tooltip=[alt.Tooltip("digit:N", title=_("digit")), alt.Tooltip("value:Q", format=".4f", title=y_title)],
    )
    text = alt.Chart(df).mark_text(dy=-7, fontSize=11, color="#333").encode(x=x, y=y, text=alt.Text("text:N"))
    words = _("Bar chart of the ten outputs, highest for {d}: {pairs}").format(d=int(probs.argmax()),
                                                                               pairs=_pairs(DIGITS, df["text"]))
    words = _("{title}. {words}").format(title=title, words=words) if title else words
    return alt.layer(bars, text, height=height, autosize=_FIT_X, title=title or alt.Undefined, description=words)


# ---------------------------------------------------------------- inside the network

def activation_bars_chart(values, top=(), title=None, height=200):
    """A hidden layer's activations, one bar per unit; the `top` units drawn in
    orange with their numbers above, the rest grey."""
    values = np.asarray(values, dtype=float).ravel()
    top = [int(u) for u in top]
    df = pd.DataFrame({"unit": np.arange(values.size), "value": values})
    df["top"] = df["unit"].isin(top)
    df["colour"] = np.where(df["top"], "#f28e2b", "#9aa1ab")
    step = max(1, -(-values.size // 16))          # about 16 labelled units along the axis
    x = alt.X("unit:O", title=_("hidden unit (0-{last})").format(last=values.size - 1),
              axis=alt.Axis(values=list(range(0, values.size, step)), labelAngle=0))
    y = alt.Y("value:Q", title=_("activation"))
    bars = alt.Chart(df).mark_bar().encode(
        x=x, y=y, color=alt.Color("colour:N", scale=None, legend=None),
        tooltip=[alt.Tooltip("unit:O", title=_("unit")), alt.Tooltip("value:Q", format=".3f", title=_("value"))])
    labels = alt.Chart(df[df["top"]]).mark_text(dy=-7, fontSize=11, color="#333").encode(
        x=x, y=y, text=alt.Text("unit:Q"))
    return alt.layer(bars, labels, height=height, autosize=_FIT_X, title=title or alt.Undefined)


def pca_map_chart(coords, labels, ratio, height=520):
    """A 2-D PCA map: one dot per image in its digit's colour, the digit written
    at each class's centre. Click a digit in the legend to pick it out."""
    coords = np.asarray(coords, dtype=float)
    df = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1], "digit": np.asarray(labels).astype(str),
                       "image": np.arange(len(coords))})
    pick = alt.selection_point(fields=["digit"], bind="legend")
    dots = alt.Chart(df).mark_circle(size=22).encode(
        x=alt.X("x:Q", title=_("direction 1 ({share} of the spread)").format(share=pct(ratio[0], 0)),
                axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", title=_("direction 2 ({share} of the spread)").format(share=pct(ratio[1], 0)),
                axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color("digit:N", scale=_digit_scale(), title=_("digit (click)"),
                        legend=alt.Legend(title=_("digit (click)"), orient="right", symbolSize=160, labelFontSize=14)),
        opacity=alt.when(pick).then(alt.value(0.7)).otherwise(alt.value(0.05)),   # (the one slow channel)
        tooltip=[alt.Tooltip("digit:N", title=_("digit")), alt.Tooltip("image:Q", title=_("sample #"))],
    ).add_params(pick)
    centres = df.groupby("digit", as_index=False)[["x", "y"]].mean()
    halo = alt.Chart(centres).mark_text(fontSize=26, fontWeight="bold", stroke="white", strokeWidth=6,
                                        color="white").encode(
        x=alt.X("x:Q"), y=alt.Y("y:Q"), text=alt.Text("digit:N"))
    text = alt.Chart(centres).mark_text(fontSize=26, fontWeight="bold", color="#222").encode(
        x=alt.X("x:Q"), y=alt.Y("y:Q"), text=alt.Text("digit:N"))
    return alt.layer(dots, halo, text, height=height, autosize=_FIT_X)


def robustness_chart(levels, accuracies, x_title, title, color="#4e79a7", x_format=".1f", height=260):
    """Accuracy (0-100%) against the strength of a change, with the 10% of guessing marked."""
    df = pd.DataFrame({"level": np.asarray(levels, float), "accuracy": np.asarray(accuracies, float)})
    line = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=60, color=color), color=color).encode(
        x=alt.X("level:Q", title=x_title, axis=alt.Axis(values=list(df["level"]), format=x_format)),
        y=alt.Y("accuracy:Q", title=_("accuracy"), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
        tooltip=[alt.Tooltip("level:Q", title=x_title, format=x_format),
                 alt.Tooltip("accuracy:Q", format=".1%", title=_("accuracy"))])
    values = alt.Chart(df).mark_text(dy=-12, fontSize=11, color="#333").encode(
        x=alt.X("level:Q", title=x_title), y=alt.Y("accuracy:Q", title=_("accuracy")),
        text=alt.Text("accuracy:Q", format=".0%"))
    guess = pd.DataFrame({"accuracy": [0.1], "text": [_("guessing: {share}").format(share=pct(0.1, 0))]})
    rule = alt.Chart(guess).mark_rule(strokeDash=[5, 4], color="#999").encode(y=alt.Y("accuracy:Q", title=_("accuracy")))
    rule_text = alt.Chart(guess).mark_text(align="right", dy=-7, color="#666", fontSize=11).encode(
        y=alt.Y("accuracy:Q", title=_("accuracy")), x=alt.XValue("width"), text=alt.Text("text:N"))
    words = _("{title}: line chart of accuracy by {x_title}: {pairs}").format(
        title=title, x_title=x_title, pairs=_pairs([num(v) for v in df["level"]], [pct(a, 0) for a in df["accuracy"]]))
    return alt.layer(rule, rule_text, line, values, height=height, title=title, autosize=_FIT_X, description=words)


def twin_loss_chart(engine_losses, torch_losses, engine_label, torch_label, height=300):
    """Two runs of the same batches (the PyTorch page): the engine's loss as a wide pale line, PyTorch's as a
    dark dashed one on top, so both stay visible where they coincide."""
    n = len(engine_losses)
    df = pd.DataFrame({"batch": list(range(1, n + 1)) * 2, "loss": list(engine_losses) + list(torch_losses),
                       "run": [engine_label] * n + [torch_label] * len(torch_losses)})
    runs = [engine_label, torch_label]
    title = _("Loss of each mini-batch, both side by side")
    words = _("{title}: line chart of {n} mini-batches; last loss {engine} {engine_loss}, {torch} {torch_loss}").format(
        title=title, n=num(n), engine=engine_label, engine_loss=num(engine_losses[-1], 4), torch=torch_label,
        torch_loss=num(torch_losses[-1], 4)) if n and len(torch_losses) else title
    chart = alt.Chart(df, height=height, title=title, autosize=_FIT_X, description=words)
    return chart.mark_line(clip=True, point=n == 1).encode(      # one batch: a point, as a line needs two
        x=alt.X("batch:Q", title=_("mini-batch"), axis=alt.Axis(format=",d", tickMinStep=1)),
        y=alt.Y("loss:Q", title=_("loss"), scale=alt.Scale(zero=True)),
        color=alt.Color("run:N", title=None, scale=alt.Scale(domain=runs, range=["#a0cbe8", "#b5400a"]),
                        legend=alt.Legend(orient="bottom", labelLimit=420)),
        strokeWidth=alt.StrokeWidth("run:N", scale=alt.Scale(domain=runs, range=[6, 1.5]), legend=None),
        strokeDash=alt.StrokeDash("run:N", scale=alt.Scale(domain=runs, range=[[1, 0], [5, 3]]), legend=None),
        tooltip=[alt.Tooltip("run:N", title=_("run")), alt.Tooltip("batch:Q", format=",", title=_("mini-batch")),
                 alt.Tooltip("loss:Q", format=".6f", title=_("loss"))],
    )
