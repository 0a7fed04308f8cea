"""The Altair charts of the Attention and Inside pages, drawn with ui.chart_cache.show(where, builder,
*args) like ui/language/charts.py's (tests/test_lm_model_charts.py checks each against the Vega-Lite
schema). Characters are given already labelled (texts.char_label) and, where a sentence repeats a
character, numbered by position ("3 · e")."""
import altair as alt
import numpy as np
import pandas as pd

from ui.charts import _FIT_X, DIVERGING, TRAIN_COLOR, VAL_COLOR


def _table(matrix, rows, cols):
    m = np.asarray(matrix, dtype=float)
    r, c = np.indices(m.shape)
    return pd.DataFrame({"row": np.asarray(rows, dtype=object)[r.ravel()],
                         "col": np.asarray(cols, dtype=object)[c.ravel()], "value": m.ravel()})


def attention_map_chart(matrix, labels, title, kind="weights", size=300, compact=False):
    """One head's T x T table: row = the query (the character reading), column = the key (the character
    read). kind="weights": the softmax P, 0 to 1, blue; masked cells (the future) drawn grey and empty.
    kind="scores": the raw scores q·k/√D, blue below 0, orange above; masked cells grey.
    compact: no axes and no legend (small maps side by side; the tooltips still name every cell)."""
    m = np.asarray(matrix, dtype=float)
    df = _table(m, labels, labels)
    T = len(labels)
    future = np.triu(np.ones((T, T), dtype=bool), k=1).ravel()
    df["future"] = np.where(future, "masked (the future)", "")
    x = alt.X("col:N", sort=list(labels), title="key: the character looked at",
              axis=None if compact else alt.Axis(labelAngle=-90, orient="top", labelOverlap=T > 40, labelFontSize=10))
    y = alt.Y("row:N", sort=list(labels), title="query: the character looking",
              axis=None if compact else alt.Axis(labelOverlap=T > 40, labelFontSize=10))
    shown = df[~future]
    if kind == "weights":
        color = alt.Color("value:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]),
                          legend=None if compact else alt.Legend(title="weight", format=".0%", orient="bottom"))
        fmt = ".4f"
    else:
        lim = float(np.abs(shown["value"]).max()) or 1.0
        color = alt.Color("value:Q", scale=alt.Scale(scheme=DIVERGING, domain=[-lim, lim], domainMid=0),
                          legend=alt.Legend(title="score", format=".2f", orient="bottom"))
        fmt = ".4f"
    grey = alt.Chart(df[future]).mark_rect(color="#d9d9d9").encode(
        x=x, y=y, tooltip=[alt.Tooltip("row:N", title="query"), alt.Tooltip("col:N", title="key"),
                           alt.Tooltip("future:N", title="mask")])
    cells = alt.Chart(shown).mark_rect().encode(
        x=x, y=y, color=color, tooltip=[alt.Tooltip("row:N", title="query"), alt.Tooltip("col:N", title="key"),
                                        alt.Tooltip("value:Q", title=kind, format=fmt)])
    strongest = []
    if kind == "weights" and T > 1:
        for i in range(1, min(T, 6)):
            j = int(np.argmax(m[i, :i + 1]))
            strongest.append(f"{labels[i]} looks most at {labels[j]} ({m[i, j]:.0%})")
    words = (f"{title}: a {T}×{T} heat map, queries down, keys across; cells above the diagonal are masked"
             + (": " + "; ".join(strongest) if strongest else ""))
    return alt.layer(grey, cells, width=size, height=size, title=title, description=words)


def looks_at_chart(weights, labels, query, heads, height=220):
    """For one query position: each head's weights over the characters up to it (grouped bars)."""
    w = np.asarray(weights, dtype=float)[:, query, :query + 1]          # (H, query + 1)
    H, n = w.shape
    df = pd.DataFrame({"key": np.tile(np.asarray(labels[:n], dtype=object), H),
                       "head": np.repeat([f"head {h + 1}" for h in heads], n), "weight": w.ravel()})
    x = alt.X("key:N", sort=list(labels[:n]), title="earlier character (key)",
              axis=alt.Axis(labelAngle=-90, labelOverlap=n > 40))
    bars = alt.Chart(df).mark_bar().encode(
        x=x, xOffset="head:N", y=alt.Y("weight:Q", title="attention weight", axis=alt.Axis(format=".0%"),
                                       scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("head:N", legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("head:N"), alt.Tooltip("key:N", title="key"), alt.Tooltip("weight:Q", format=".4f")])
    title = f"Where {labels[query]} looks, head by head"
    words = f"{title}: " + "; ".join(
        f"head {h + 1} looks most at {labels[int(np.argmax(w[i]))]} ({w[i].max():.0%})" for i, h in enumerate(heads))
    return alt.layer(bars, height=height, title=title, autosize=_FIT_X, description=words)


def embedding_map_chart(coords, labels, share, height=420):
    """The characters' embeddings on their two main directions (PCA): one labelled point per character."""
    c = np.asarray(coords, dtype=float)
    df = pd.DataFrame({"x": c[:, 0], "y": c[:, 1], "char": list(labels)})
    x = alt.X("x:Q", title=f"direction 1 ({share[0]:.0%} of the variance)")
    y = alt.Y("y:Q", title=f"direction 2 ({share[1]:.0%} of the variance)")
    points = alt.Chart(df).mark_circle(color=TRAIN_COLOR, size=40, opacity=0.5).encode(
        x=x, y=y, tooltip=[alt.Tooltip("char:N", title="character"), alt.Tooltip("x:Q", format=".3f"),
                           alt.Tooltip("y:Q", format=".3f")])
    text = alt.Chart(df).mark_text(fontSize=13, dy=-9, color="#111").encode(x=x, y=y, text="char:N")
    title = "Each character's embedding, seen from its two main directions"
    far = df.assign(r=np.hypot(df["x"], df["y"])).nlargest(4, "r")
    words = (f"{title}: {len(df)} characters; the farthest from the middle: "
             + ", ".join(f"{r.char} at ({r.x:.2f}, {r.y:.2f})" for r in far.itertuples()))
    return alt.layer(points, text, height=height, title=title, autosize=_FIT_X, description=words)


def runs_chart(points, field, title_x, height=260):
    """Validation loss of the models met so far against `field` ("context" or "weights"); the built-in
    model drawn as a diamond. points: dicts with label, field, val_loss, corpus, builtin."""
    df = pd.DataFrame([{"label": p["label"], "x": p[field], "loss": p["val_loss"], "text": p["corpus"],
                        "model": "built-in" if p["builtin"] else "yours"}
                       for p in points if p["val_loss"] is not None])
    log = field == "weights"
    x = alt.X("x:Q", title=title_x, scale=alt.Scale(type="log" if log else "linear", zero=not log),
              axis=alt.Axis(format="~s" if log else "d"))
    chart = alt.Chart(df).mark_point(size=120, filled=True).encode(
        x=x, y=alt.Y("loss:Q", title="validation loss (nats per character)", scale=alt.Scale(zero=False),
                                axis=alt.Axis(format=".2f")),
        shape=alt.Shape("model:N", scale=alt.Scale(domain=["built-in", "yours"], range=["diamond", "circle"]),
                        legend=alt.Legend(title=None, orient="top")),
        color=alt.Color("model:N", scale=alt.Scale(domain=["built-in", "yours"], range=[VAL_COLOR, TRAIN_COLOR]),
                        legend=None),
        tooltip=[alt.Tooltip("label:N", title="model"), alt.Tooltip("text:N", title="text"),
                 alt.Tooltip("x:Q", title=title_x, format=","), alt.Tooltip("loss:Q", format=".4f")])
    title = f"Validation loss against {title_x}"
    words = f"{title}: " + "; ".join(f"{r.label}: {r.x:,} and {r.loss:.4f}" for r in df.itertuples())
    return alt.layer(chart, height=height, title=title, autosize=_FIT_X, description=words)
