"""Every Altair chart of the app is built here, so pages stay thin and look alike.

One colour per digit everywhere (DIGIT_COLORS), the same in every chart.
Pages draw a chart with show(where, builder, *args), never st.altair_chart:
see "Drawing a chart" at the end of this file for why.
"""
import hashlib
import threading
from collections import OrderedDict

import altair as alt
import numpy as np
import pandas as pd

# Tableau-10: ten colours that stay distinct for most kinds of colour blindness.
# 5, 7 and 9 use Tableau's darker shades so digits written in their colour stay readable.
DIGIT_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                "#b6992d", "#b07aa1", "#d37295", "#9c755f", "#79706e"]
DIGITS = [str(d) for d in range(10)]


def digit_scale():
    """Altair colour scale mapping '0'..'9' to DIGIT_COLORS."""
    return alt.Scale(domain=DIGITS, range=DIGIT_COLORS)


# Every channel below is a typed object (alt.X("col:O"), alt.Tooltip(...), alt.ColorValue(...)),
# never a plain string or alt.value()/alt.condition(): Altair turns those into channel
# objects by searching its whole schema, 5-15 ms each, 100 times slower. Colours that
# depend on a value are worked out in the DataFrame and drawn with scale=None.
# Layers are separate alt.Chart()s joined once with alt.layer(..., height=, title=):
# `a + b` and .properties() on a layered chart deep-copy every layer, 10-40 ms a time.

# ---------------------------------------------------------------- teaching pages
# (Home, Dataset, One-hot, How it learns.) Pictures are drawn as "ink on paper":
# pixel 0 (no ink) is white, 255 (full ink) is black.

PAPER_INK = alt.Scale(domain=[0, 255], range=["#ffffff", "#111111"])
DIVERGING = "blueorange"   # negative = blue, 0 = white-ish, positive = orange
LIT, DARK = "#f5b700", "#3b3f46"


def ink_image(pixels, scale=4, frame=True):
    """A digit (784,) or any 2-D uint8/float array of 0..255 ink -> an upscaled
    uint8 picture (dark ink on white paper) for st.image, with a thin grey
    frame showing the edge of the 28x28 box."""
    img = np.asarray(pixels, dtype=np.float32)
    if img.ndim == 1:
        img = img.reshape(28, 28)
    img = (255 - np.clip(img, 0, 255)).round().astype(np.uint8)
    img = np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)
    return np.pad(img, 1, constant_values=200) if frame else img


def matrix_image(rows, row_px=4, col_px=1):
    """A slice of the data matrix (k, 784) as a picture: one image per strip of pixels."""
    img = 255 - np.asarray(rows, dtype=np.uint8)
    return np.repeat(np.repeat(img, row_px, axis=0), col_px, axis=1)


def class_bar_chart(counts, title, height=220):
    """Bar chart of how many examples each digit has."""
    df = pd.DataFrame({"digit": DIGITS, "examples": np.asarray(counts, dtype=int)})
    x = alt.X("digit:N", title="digit", axis=alt.Axis(labelAngle=0))
    y = alt.Y("examples:Q", title="examples")
    bars = alt.Chart(df).mark_bar().encode(
        x=x, y=y, color=alt.Color("digit:N", scale=digit_scale(), legend=None),
        tooltip=[alt.Tooltip("digit:N"), alt.Tooltip("examples:Q", format=",")],
    )
    text = alt.Chart(df).mark_text(dy=-6, fontSize=11, color="#444").encode(
        x=x, y=y, text=alt.Text("examples:Q", format=","))
    return alt.layer(bars, text, title=title, height=height)


def pixel_grid_chart(pixels, size=560, values=True, title=None):
    """One digit as a 28x28 heat map, optionally with each 0-255 value written in its cell."""
    img = np.asarray(pixels).reshape(28, 28)
    rows, cols = np.indices(img.shape)
    df = pd.DataFrame({"row": rows.ravel(), "col": cols.ravel(), "value": img.ravel().astype(int)})
    # The number's colour: white on dark cells, light grey for the many zeros, else black.
    df["ink"] = np.where(df["value"] > 110, "white", np.where(df["value"] == 0, "#c9ccd1", "black"))
    x = alt.X("col:O", title="column", axis=alt.Axis(labelAngle=0, labelFontSize=8, values=list(range(0, 28, 3))))
    y = alt.Y("row:O", title="row", axis=alt.Axis(labelFontSize=8, values=list(range(0, 28, 3))))
    layers = [alt.Chart(df).mark_rect(stroke="#e5e7eb", strokeWidth=0.3).encode(
        x=x, y=y, color=alt.Color("value:Q", scale=PAPER_INK, legend=alt.Legend(title="ink 0-255")),
        tooltip=[alt.Tooltip("row:O"), alt.Tooltip("col:O"), alt.Tooltip("value:Q")],
    )]
    if values:
        layers.append(alt.Chart(df).mark_text(fontSize=max(6, size // 75)).encode(
            x=x, y=y, text=alt.Text("value:Q"), color=alt.Color("ink:N", scale=None)))
    # The numbers' colours (scale=None) must not be merged with the cells' ink scale.
    return alt.layer(*layers, width=size, height=size, title=title or alt.Undefined,
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
        x=alt.X("index:Q", title="position in the 784-long row (a new image row starts every 28)",
                scale=alt.Scale(domain=[0, x.size], nice=False),
                axis=alt.Axis(values=list(range(0, x.size + 1, 56)), grid=False)),
        x2=alt.X2("end"),
        color=alt.Color("value:Q", scale=PAPER_INK, legend=None),
        tooltip=[alt.Tooltip("index:Q", title="position"), alt.Tooltip("row:O"), alt.Tooltip("col:O"),
                 alt.Tooltip("value:Q")],
    )


def digit_pictures_chart(images, titles, size=110, diverging=False, columns=10, domain=None):
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
        m = float(np.abs(images).max()) if domain is None else domain
        m = m or 1.0
        scale = alt.Scale(scheme=DIVERGING, domain=[-m, m], domainMid=0)
        legend = alt.Legend(title="value", format=".1e" if m < 0.01 else ".2f", orient="right")
    else:
        scale, legend = PAPER_INK, None
    return alt.Chart(df, width=size, height=size).mark_rect().encode(
        x=alt.X("col:O", axis=None),
        y=alt.Y("row:O", axis=None),
        color=alt.Color("value:Q", scale=scale, legend=legend),
        tooltip=[alt.Tooltip("picture:N"), alt.Tooltip("row:O"), alt.Tooltip("col:O"),
                 alt.Tooltip("value:Q", format=".4g")],
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
        x=alt.X("value:Q", title="pixel value (0 = paper, 255 = full ink)", scale=alt.Scale(domain=[0, 256], nice=False)),
        x2=alt.X2("end"),
        y=alt.Y("pixels:Q", title="number of pixels (log scale)", scale=alt.Scale(type="log")),
        y2=alt.Y2Datum(1),
        color=alt.Color("value:Q", scale=alt.Scale(domain=[0, 255], range=["#c7cbd1", "#111111"]), legend=None),
        tooltip=[alt.Tooltip("value:Q"), alt.Tooltip("pixels:Q", format=",")],
    )


def neurons_chart(values, title=None, lit_colors=False, height=120, names=None):
    """A layer of output neurons drawn as circles: bright = value near 1, dark = 0.

    values: one number in [0, 1] per neuron (a one-hot label or a network output).
    lit_colors: colour each lit neuron with its digit colour (else one warm yellow)."""
    values = np.asarray(values, dtype=float)
    n = values.size
    names = names or [str(i) for i in range(n)]
    df = pd.DataFrame({"neuron": names, "value": values,
                       "shown": np.clip(values, 0, 1),
                       "text": [f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}" for v in values]})
    df["ink"] = np.where(df["shown"] > 0.45, "#111111", "#ffffff")   # dark text on a bright neuron
    x = alt.X("neuron:N", sort=names, title="output neuron", axis=alt.Axis(labelAngle=0, labelFontSize=13, ticks=False, domain=False))
    dark = alt.Chart(df).mark_circle(size=1500, color=DARK, opacity=1).encode(x=x)
    fill = alt.Color("neuron:N", scale=digit_scale(), legend=None) if lit_colors else alt.ColorValue(LIT)
    lit = alt.Chart(df).mark_circle(size=1500).encode(
        x=x, color=fill, opacity=alt.Opacity("shown:Q", scale=alt.Scale(domain=[0, 1], range=[0, 1]), legend=None),
        tooltip=[alt.Tooltip("neuron:N"), alt.Tooltip("value:Q", format=".4f")])
    text = alt.Chart(df).mark_text(fontSize=12, fontWeight="bold").encode(
        x=x, text=alt.Text("text:N"), color=alt.Color("ink:N", scale=None))
    return alt.layer(dark, lit, text, height=height, title=title or alt.Undefined)


def loss_terms_chart(df, title, color, height=200, fmt=".3f"):
    """Each neuron's share of a loss. df: columns neuron (str) and term (float)."""
    names = list(df["neuron"])
    x = alt.X("neuron:N", sort=names, title="output neuron", axis=alt.Axis(labelAngle=0))
    y = alt.Y("term:Q", title="loss term")
    bars = alt.Chart(df).mark_bar(color=color).encode(
        x=x, y=y, tooltip=[alt.Tooltip("neuron:N"), alt.Tooltip("term:Q", format=".4f")])
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
        x = alt.X("digit:N", sort=DIGITS, title="output neuron (digit)", axis=alt.Axis(labelAngle=0))
        color = alt.Color("digit:N", scale=digit_scale(), legend=None)
    else:
        x = alt.X("unit:O", title=f"unit (0-{values.size - 1})",
                  axis=alt.Axis(labels=values.size <= 32, ticks=values.size <= 32))
        color = alt.Color("sign:N", scale=None)
    y = alt.Y("value:Q", title=None)
    layers = [alt.Chart(df).mark_bar().encode(
        x=x, y=y, color=color, tooltip=[alt.Tooltip("unit:O"), alt.Tooltip("value:Q", format=".4f")])]
    if digits:
        layers.append(alt.Chart(df).mark_text(dy=-7, fontSize=10, color="#444").encode(
            x=x, y=y, text=alt.Text("value:Q", format=fmt)))
    if highlight is not None:     # a grey band behind the true digit
        mark = pd.DataFrame({"digit": [str(highlight)]})
        layers.insert(0, alt.Chart(mark).mark_rect(opacity=0.12, color="#888").encode(
            x=alt.X("digit:N", sort=DIGITS)))
    return alt.layer(*layers, height=height, title=title or alt.Undefined)


def matrix_heat_chart(matrix, title=None, row_name="output neuron", col_name="hidden unit", height=220):
    """A weight or gradient matrix (n_out, n_in) as a heat map around 0 (blue -, orange +)."""
    m = np.asarray(matrix, dtype=float)
    r, c = np.indices(m.shape)
    df = pd.DataFrame({"row": r.ravel(), "col": c.ravel(), "value": m.ravel()})
    lim = float(np.abs(m).max()) or 1.0
    return alt.Chart(df, height=height, title=title or alt.Undefined).mark_rect().encode(
        x=alt.X("col:O", title=f"{col_name} (0-{m.shape[1] - 1})", axis=alt.Axis(labels=m.shape[1] <= 32, ticks=False)),
        y=alt.Y("row:O", title=row_name),
        color=alt.Color("value:Q", scale=alt.Scale(scheme=DIVERGING, domain=[-lim, lim], domainMid=0),
                        legend=alt.Legend(title="value", format=".1e" if lim < 0.01 else ".2f")),
        tooltip=[alt.Tooltip("row:O", title=row_name), alt.Tooltip("col:O", title=col_name),
                 alt.Tooltip("value:Q", format=".3e")],
    )


def before_after_chart(before, after, label, height=230):
    """The 10 outputs before and after one update step, side by side per digit."""
    df = pd.concat([
        pd.DataFrame({"digit": DIGITS, "output": np.asarray(before, float), "when": "1 before"}),
        pd.DataFrame({"digit": DIGITS, "output": np.asarray(after, float), "when": "2 after"}),
    ])
    df["true"] = df["digit"] == str(label)
    return alt.Chart(df, height=height).mark_bar().encode(
        x=alt.X("digit:N", sort=DIGITS, title="output neuron (digit)", axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("when:N"),
        y=alt.Y("output:Q", title="output"),
        color=alt.Color("when:N", scale=alt.Scale(domain=["1 before", "2 after"], range=["#bab0ac", "#59a14f"]),
                        legend=alt.Legend(title=None, orient="top", labelExpr="slice(datum.label, 2)")),
        tooltip=[alt.Tooltip("digit:N"), alt.Tooltip("when:N"), alt.Tooltip("output:Q", format=".4f")],
    )


# ---------------------------------------------------------------- train / evaluate / draw

TRAIN_COLOR, VAL_COLOR = "#4e79a7", "#f28e2b"
# Stretch to the column's width but keep `height` for the plot itself (Streamlit's
# default "fit" squeezes the plot to make room for titles and legends).
_FIT_X = alt.AutoSizeParams(type="fit-x", contains="padding")


def _thin(x, y, max_points):
    """Every k-th point so a live chart never sends more than max_points."""
    k = max(1, -(-len(x) // max_points))
    return np.asarray(x)[::k], np.asarray(y, dtype=float)[::k]


def batch_loss_chart(steps, losses, height=230, max_points=300):
    """Loss of every mini-batch (averaged once the run is long) against the batch number."""
    s, l = _thin(steps, losses, max_points)
    df = pd.DataFrame({"batch": s, "loss": l})
    chart = alt.Chart(df, height=height, title="Loss of each mini-batch", autosize=_FIT_X)
    return chart.mark_line(color=TRAIN_COLOR, strokeWidth=1.2, clip=True, point=len(df) < 20).encode(
        x=alt.X("batch:Q", title="mini-batch", axis=alt.Axis(format=",d", tickMinStep=1)),
        y=alt.Y("loss:Q", title="loss", scale=alt.Scale(zero=True)),
        tooltip=[alt.Tooltip("batch:Q", format=","), alt.Tooltip("loss:Q", format=".4f")],
    )


def epoch_chart(epochs, what="loss", height=230, total_epochs=None):
    """Per-epoch train vs validation loss (what='loss') or accuracy (what='acc')."""
    rows = []
    for e in epochs:
        rows.append({"epoch": e["epoch"], "set": "training", "value": e[f"train_{what}"]})
        if f"val_{what}" in e:
            rows.append({"epoch": e["epoch"], "set": "validation", "value": e[f"val_{what}"]})
    df = pd.DataFrame(rows, columns=["epoch", "set", "value"])
    name = "loss" if what == "loss" else "accuracy"
    # Short runs show their whole length from the start; long runs grow the axis as
    # they go, so 200 planned epochs don't squeeze the first ten against the edge.
    done = epochs[-1]["epoch"] if epochs else 1
    upper = min(total_epochs, max(10, done + 1)) if total_epochs else None
    x_scale = alt.Scale(domain=[1, max(2, upper)], nice=False) if upper else alt.Scale()
    y_axis = alt.Axis(format=".1%" if what == "acc" else "", tickCount=5)
    y_scale = alt.Scale(zero=False) if what == "acc" else alt.Scale(zero=True)
    chart = alt.Chart(df, height=height, title=f"{name.capitalize()} per epoch", autosize=_FIT_X)
    return chart.mark_line(point=True).encode(
        x=alt.X("epoch:Q", title="epoch", scale=x_scale, axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("value:Q", title=name, axis=y_axis, scale=y_scale),
        color=alt.Color("set:N", scale=alt.Scale(domain=["training", "validation"], range=[TRAIN_COLOR, VAL_COLOR]),
                        legend=alt.Legend(title=None, orient="top", direction="horizontal")),
        # Tooltip objects, not plain strings: Altair turns strings into channels the slow way.
        tooltip=[alt.Tooltip("epoch:Q"), alt.Tooltip("set:N"),
                 alt.Tooltip("value:Q", format=".2%" if what == "acc" else ".4f")],
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
        tooltip=[alt.Tooltip("run:N"), alt.Tooltip("x:Q", title=x_title, format=",.2f"),
                 alt.Tooltip("value:Q", title=y_title, format=".2%" if percent else ".4f")],
    )


def projector(chart):
    """The same chart with text big enough for a projector (presenter mode)."""
    return (chart.configure_axis(labelFontSize=16, titleFontSize=18)
                 .configure_legend(labelFontSize=16, titleFontSize=16, symbolSize=160)
                 .configure_title(fontSize=20))


# Blue (negative) - white (0) - orange (positive), like the DIVERGING scheme above.
_NEG, _MID, _POS = np.array([33, 102, 172]), np.array([255, 255, 255]), np.array([230, 97, 1])


def diverging_rgb(values):
    """Values in [-1, 1] -> RGB uint8: blue for negative, white for 0, orange for positive."""
    v = np.clip(np.asarray(values, dtype=np.float32), -1, 1)[..., None]
    rgb = np.where(v < 0, _MID + (-v) * (_NEG - _MID), _MID + v * (_POS - _MID))
    return rgb.round().astype(np.uint8)


def weight_grid_image(W, n_units=32, columns=8, scale=3, gap=2):
    """First-layer weights (n_hidden, 784) as a grid of 28x28 pictures, one per hidden unit.

    Each picture is scaled by its own largest |weight|, so every unit's pattern
    is visible: orange pixels push that unit up, blue ones push it down.
    Returns an RGB uint8 image for st.image."""
    W = np.asarray(W, dtype=np.float32)[:n_units]
    n = len(W)
    rows = -(-n // columns)
    cell = 28 * scale
    img = np.full((rows * (cell + gap) + gap, columns * (cell + gap) + gap, 3), 230, np.uint8)
    peak = np.abs(W).max(axis=1, keepdims=True)
    norm = W / np.where(peak > 0, peak, 1)
    for i, unit in enumerate(norm):
        r, c = divmod(i, columns)
        tile = np.repeat(np.repeat(diverging_rgb(unit.reshape(28, 28)), scale, axis=0), scale, axis=1)
        y, x = gap + r * (cell + gap), gap + c * (cell + gap)
        img[y:y + cell, x:x + cell] = tile
    return img


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
    df["label"] = [f"{v:.0%}" if normalise else f"{c:,}" for v, c in zip(df["share"], df["count"])]
    df.loc[df["count"] == 0, "label"] = ""
    wrong = df[(df["kind"] == "wrong") & (df["count"] > 0)]
    top = float(wrong[field].max()) if len(wrong) else 1.0
    df["ink"] = np.where((df["kind"] == "wrong") & (df[field] > top * 0.6), "white", "#222")  # text on dark cells
    pick = alt.selection_point(name=name, fields=["true", "predicted"], on="click", clear=False)
    x = alt.X("predicted:N", sort=DIGITS, title="predicted digit", axis=alt.Axis(labelAngle=0, orient="top"))
    y = alt.Y("true:N", sort=DIGITS, title="true digit")
    tooltip = [alt.Tooltip("true:N"), alt.Tooltip("predicted:N"), alt.Tooltip("count:Q", format=","),
               alt.Tooltip("share:Q", format=".1%", title="share of true digit")]
    # Every cell: green (right) or white (no mistakes there).
    cells = alt.Chart(df).mark_rect(stroke="#e5e7eb", strokeWidth=1).encode(
        x=x, y=y,
        color=alt.Color("kind:N", scale=alt.Scale(domain=["right", "wrong"], range=["#a1d99b", "#ffffff"]),
                        legend=None),
    )
    mistakes = alt.Chart(wrong).mark_rect(stroke="#e5e7eb", strokeWidth=1).encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color(f"{field}:Q", scale=alt.Scale(scheme="oranges", domain=[0, top]),
                        legend=alt.Legend(title="mistakes", format=".0%" if normalise else ",d")),
    )
    text = alt.Chart(df).mark_text(fontSize=12).encode(
        x=x, y=y, text=alt.Text("label:N"), color=alt.Color("ink:N", scale=None))
    layers = [cells, mistakes, text]
    if selected is not None:
        mark = pd.DataFrame({"true": [str(selected[0])], "predicted": [str(selected[1])]})
        layers.append(alt.Chart(mark).mark_rect(fill=None, stroke="#111", strokeWidth=3).encode(x=x, y=y))
    # On top, an invisible cell per (true, predicted) that receives the clicks and tooltips.
    layers.append(alt.Chart(df).mark_rect(fill="#ffffff", fillOpacity=0.01, cursor="pointer").encode(
        x=x, y=y, tooltip=tooltip).add_params(pick))
    return alt.layer(*layers, width=size, height=size)


def probability_chart(probs, is_probability=True, height=240, title=None):
    """The ten outputs of the network as bars in the digit colours, the winner labelled."""
    probs = np.asarray(probs, dtype=float).ravel()
    df = pd.DataFrame({"digit": DIGITS, "value": probs})
    df["text"] = [sure_text(v) if is_probability else f"{v:.2f}" for v in probs]
    y_title = "probability" if is_probability else "output (sigmoid)"
    x = alt.X("digit:N", sort=DIGITS, title="digit", axis=alt.Axis(labelAngle=0, labelFontSize=14))
    y = alt.Y("value:Q", title=y_title, scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format=".0%" if is_probability else ".1f"))
    bars = alt.Chart(df).mark_bar().encode(
        x=x, y=y, color=alt.Color("digit:N", scale=digit_scale(), legend=None),
        tooltip=[alt.Tooltip("digit:N"), alt.Tooltip("value:Q", format=".4f")],
    )
    text = alt.Chart(df).mark_text(dy=-7, fontSize=11, color="#333").encode(x=x, y=y, text=alt.Text("text:N"))
    return alt.layer(bars, text, height=height, autosize=_FIT_X, title=title or alt.Undefined)


def sure_text(p):
    """A probability as a percentage that never rounds up to a certain-sounding '100%'."""
    return f"{np.floor(p * 1000) / 10:.1f}%" if p >= 0.995 else f"{p:.0%}"


def ink01_image(ink, size=None, scale=None):
    """Ink in [0, 1] (any 2-D shape) -> dark-on-white uint8 picture, enlarged by
    whole pixels (nearest neighbour) to about `size` pixels, or by `scale`."""
    ink = np.asarray(ink, dtype=np.float32)
    if ink.size == 0:
        return np.full((8, 8), 255, np.uint8)
    if scale is None:
        scale = max(1, int((size or 112) // max(ink.shape)))
    return ink_image(ink * 255, scale=scale)


def step_loss_chart(losses, height=200):
    """The loss on one image after each update step (step 0 = before any step)."""
    df = pd.DataFrame({"step": np.arange(len(losses)), "loss": np.asarray(losses, float)})
    chart = alt.Chart(df, height=height, title="Loss on this image, step by step")
    return chart.mark_line(point=alt.OverlayMarkDef(color="#e15759", size=60), color="#e15759").encode(
        x=alt.X("step:O", title="step", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("loss:Q", title="loss on this image"),
        tooltip=[alt.Tooltip("step:O"), alt.Tooltip("loss:Q", format=".4g")],
    )


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
    x = alt.X("unit:O", title=f"hidden unit (0-{values.size - 1})",
              axis=alt.Axis(values=list(range(0, values.size, step)), labelAngle=0))
    y = alt.Y("value:Q", title="activation")
    bars = alt.Chart(df).mark_bar().encode(
        x=x, y=y, color=alt.Color("colour:N", scale=None),
        tooltip=[alt.Tooltip("unit:O"), alt.Tooltip("value:Q", format=".3f")])
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
        x=alt.X("x:Q", title=f"direction 1 ({ratio[0]:.0%} of the spread)", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", title=f"direction 2 ({ratio[1]:.0%} of the spread)", axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color("digit:N", scale=digit_scale(),
                        legend=alt.Legend(title="digit (click)", orient="right", symbolSize=160, labelFontSize=14)),
        opacity=alt.when(pick).then(alt.value(0.7)).otherwise(alt.value(0.05)),   # (the one slow channel)
        tooltip=[alt.Tooltip("digit:N"), alt.Tooltip("image:Q", title="sample #")],
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
        y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
        tooltip=[alt.Tooltip("level:Q", title=x_title, format=x_format),
                 alt.Tooltip("accuracy:Q", format=".1%")])
    values = alt.Chart(df).mark_text(dy=-12, fontSize=11, color="#333").encode(
        x=alt.X("level:Q"), y=alt.Y("accuracy:Q"), text=alt.Text("accuracy:Q", format=".0%"))
    guess = pd.DataFrame({"accuracy": [0.1], "text": ["guessing: 10%"]})
    rule = alt.Chart(guess).mark_rule(strokeDash=[5, 4], color="#999").encode(y=alt.Y("accuracy:Q"))
    rule_text = alt.Chart(guess).mark_text(align="right", dy=-7, color="#777", fontSize=11).encode(
        y=alt.Y("accuracy:Q"), x=alt.XValue("width"), text=alt.Text("text:N"))
    return alt.layer(rule, rule_text, line, values, height=height, title=title, autosize=_FIT_X)


# ---------------------------------------------------------------- drawing a chart
# Building an Altair chart and checking it against the Vega-Lite schema is slow
# pure Python: 50-100 ms per chart here, most of a page's time on a rerun, and a
# rerun happens on every click. So pages call show(): each chart is built once
# per distinct input, turned into a plain Vega-Lite dict without the schema
# check (tests/test_charts.py checks every builder against the schema instead)
# and kept in a small cache shared by all sessions. A rerun with the same inputs
# only sends the dict again.

alt.utils.schemapi.disable_debug_mode()   # don't validate each piece while building either
alt.theme.enable("none")                  # as st.altair_chart does: Streamlit's theme, not Altair's sizes

SPEC_CACHE_BYTES = 32_000_000             # the cache's data may use this much memory
_specs = OrderedDict()                    # key -> (spec, bytes), least recently used first
_specs_lock = threading.Lock()            # Streamlit runs each session's script in its own thread
_specs_bytes = 0


def show(where, build, *args, big=False, width="stretch", key=None, on_select="ignore",
         selection_mode=None, **kwargs):
    """Draw the chart build(*args, **kwargs) in `where` (st, a column or a container).

    build: a chart function of this module; its arguments are plain values,
    NumPy arrays, DataFrames, lists, tuples or dicts of these. big=True gives
    projector-sized text (presenter mode). width, key, on_select and
    selection_mode go to st.vega_lite_chart, whose return value this returns.
    """
    spec = chart_spec(build, *args, big=big, **kwargs)
    return where.vega_lite_chart(spec, width=width, key=key, on_select=on_select,
                                 selection_mode=selection_mode)


def chart_spec(build, *args, big=False, **kwargs):
    """The Vega-Lite dict of build(*args, **kwargs), from the cache when the same
    chart was built before. Its data are DataFrames in spec["datasets"]."""
    global _specs_bytes
    key = (build.__name__, big, _fingerprint(args), _fingerprint(kwargs))
    with _specs_lock:
        hit = _specs.get(key)
        if hit is not None:
            _specs.move_to_end(key)
    if hit is None:
        chart = build(*args, **kwargs)
        spec = to_spec(projector(chart) if big else chart)
        size = 10_000 + sum(int(df.memory_usage(deep=True).sum()) for df in spec["datasets"].values())
        hit = (spec, size)
        with _specs_lock:
            if key not in _specs:
                _specs[key] = hit
                _specs_bytes += size
            while _specs_bytes > SPEC_CACHE_BYTES and len(_specs) > 1:
                _specs_bytes -= _specs.popitem(last=False)[1][1]
    spec = hit[0]
    # Streamlit takes the datasets out of the dict it is given: hand it a copy.
    return {**spec, "datasets": dict(spec["datasets"])}


def to_spec(chart):
    """An Altair chart -> its Vega-Lite dict, not checked against the schema.

    Each DataFrame becomes a named dataset in spec["datasets"], which Streamlit
    sends to the browser in Arrow format, as st.altair_chart does."""
    _collecting.datasets, _collecting.names = {}, {}
    try:
        spec = chart.to_dict(validate=False)
        spec["datasets"] = _collecting.datasets
    finally:
        _collecting.datasets = _collecting.names = None
    return spec


_collecting = threading.local()   # the datasets of the to_spec call running in this thread


def _name_data(data):
    """Altair data transformer: a DataFrame -> a reference to a named dataset."""
    datasets = getattr(_collecting, "datasets", None)
    if datasets is None:                              # a chart converted some other way
        return alt.to_values(data)
    if id(data) not in _collecting.names:             # layers often share one frame
        # Named by content, as Streamlit does. (Not "data_0": Vega-Lite uses such names itself.)
        name = "ds_" + hashlib.blake2b(repr(_fingerprint(data)).encode(), digest_size=10).hexdigest()
        _collecting.names[id(data)] = name
        datasets[name] = data
    return {"name": _collecting.names[id(data)]}


# Enabled once for the whole process: enabling it per call would race between sessions.
alt.data_transformers.register("named_datasets", _name_data)
alt.data_transformers.enable("named_datasets")


def _fingerprint(obj):
    """A hashable summary of a chart builder's argument (arrays by content)."""
    if isinstance(obj, np.ndarray):
        digest = hashlib.blake2b(np.ascontiguousarray(obj).tobytes(), digest_size=16).hexdigest()
        return ("array", obj.dtype.str, obj.shape, digest)
    if isinstance(obj, pd.DataFrame):
        rows = pd.util.hash_pandas_object(obj, index=True).to_numpy()
        return ("frame", tuple(map(str, obj.columns)), tuple(map(str, obj.dtypes)), _fingerprint(rows))
    if isinstance(obj, (list, tuple)) and len(obj) > 8 and len({type(v) for v in obj}) == 1 \
            and type(obj[0]) in (int, float):                # a long run of numbers: hash it as an array
        return (type(obj).__name__, _fingerprint(np.asarray(obj)))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(_fingerprint(v) for v in obj))
    if isinstance(obj, dict):
        return ("dict", tuple((str(k), _fingerprint(v)) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))))
    if obj is None or isinstance(obj, (bool, int, float, str, np.generic)):
        return (type(obj).__name__, repr(obj))
    raise TypeError(f"charts.show cannot use a {type(obj).__name__} as a chart argument")
