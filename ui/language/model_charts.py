"""The Altair charts of the Attention and Inside pages, drawn with ui.chart_cache.show(where, builder,
*args) like ui/language/charts.py's (tests/test_lm_model_charts.py checks each against the Vega-Lite
schema). Characters are given already labelled (texts.char_label) and, where a sentence repeats a
character, numbered by position ("3 · e")."""
import altair as alt
import numpy as np
import pandas as pd

from i18n import _, num, pct
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
    df["future"] = np.where(future, _("masked (the future)"), "")
    x = alt.X("col:N", sort=list(labels), title=_("key: the character looked at"),
              axis=None if compact else alt.Axis(labelAngle=-90, orient="top", labelOverlap=T > 40, labelFontSize=10))
    y = alt.Y("row:N", sort=list(labels), title=_("query: the character looking"),
              axis=None if compact else alt.Axis(labelOverlap=T > 40, labelFontSize=10))
    shown = df[~future]
    if kind == "weights":
        color = alt.Color("value:Q", title=_("weight"), scale=alt.Scale(scheme="blues", domain=[0, 1]),
                          legend=None if compact else alt.Legend(title=_("weight"), format=".0%", orient="bottom"))
        fmt = ".4f"
    else:
        lim = float(np.abs(shown["value"]).max()) or 1.0
        color = alt.Color("value:Q", title=_("score"), scale=alt.Scale(scheme=DIVERGING, domain=[-lim, lim], domainMid=0),
                          legend=alt.Legend(title=_("score"), format=".2f", orient="bottom"))
        fmt = ".4f"
    grey = alt.Chart(df[future]).mark_rect(color="#d9d9d9").encode(
        x=x, y=y, tooltip=[alt.Tooltip("row:N", title=_("query")), alt.Tooltip("col:N", title=_("key")),
                           alt.Tooltip("future:N", title=_("mask"))])
    cells = alt.Chart(shown).mark_rect().encode(
        x=x, y=y, color=color, tooltip=[alt.Tooltip("row:N", title=_("query")), alt.Tooltip("col:N", title=_("key")),
                                        alt.Tooltip("value:Q", title=_("weight") if kind == "weights" else _("score"),
                                                    format=fmt)])
    strongest = []
    if kind == "weights" and T > 1:
        for i in range(1, min(T, 6)):
            j = int(np.argmax(m[i, :i + 1]))
            strongest.append(_("{query} looks most at {key} ({share})").format(query=labels[i], key=labels[j],
                                                                             share=pct(m[i, j], 0)))
    words = _("{title}: a {T}×{T} heat map, queries down, keys across; cells above the diagonal are masked").format(
        title=title, T=T) + (": " + "; ".join(strongest) if strongest else "")
    return alt.layer(grey, cells, width=size, height=size, title=title, description=words)


def looks_at_chart(weights, labels, query, heads, height=220):
    """For one query position: each head's weights over the characters up to it (grouped bars)."""
    w = np.asarray(weights, dtype=float)[:, query, :query + 1]          # (H, query + 1)
    H, n = w.shape
    df = pd.DataFrame({"key": np.tile(np.asarray(labels[:n], dtype=object), H),
                       "head": np.repeat([_("head {i}").format(i=h + 1) for h in heads], n), "weight": w.ravel()})
    x = alt.X("key:N", sort=list(labels[:n]), title=_("earlier character (key)"),
              axis=alt.Axis(labelAngle=-90, labelOverlap=n > 40))
    bars = alt.Chart(df).mark_bar().encode(
        x=x, xOffset="head:N", y=alt.Y("weight:Q", title=_("attention weight"), axis=alt.Axis(format=".0%"),
                                       scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("head:N", title=_("head"), legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("head:N", title=_("head")), alt.Tooltip("key:N", title=_("key")),
                 alt.Tooltip("weight:Q", title=_("weight"), format=".4f")])
    title = _("Where {char} looks, head by head").format(char=labels[query])
    words = f"{title}: " + "; ".join(
        _("head {i} looks most at {key} ({share})").format(i=h + 1, key=labels[int(np.argmax(w[i]))],
                                                          share=pct(w[i].max(), 0)) for i, h in enumerate(heads))
    return alt.layer(bars, height=height, title=title, autosize=_FIT_X, description=words)


def embedding_map_chart(coords, labels, share, height=420):
    """The characters' embeddings on their two main directions (PCA): one labelled point per character."""
    c = np.asarray(coords, dtype=float)
    df = pd.DataFrame({"x": c[:, 0], "y": c[:, 1], "char": list(labels)})
    x = alt.X("x:Q", title=_("direction 1 ({share} of the variance)").format(share=pct(share[0], 0)))
    y = alt.Y("y:Q", title=_("direction 2 ({share} of the variance)").format(share=pct(share[1], 0)))
    points = alt.Chart(df).mark_circle(color=TRAIN_COLOR, size=40, opacity=0.5).encode(
        x=x, y=y, tooltip=[alt.Tooltip("char:N", title=_("character")),
                           alt.Tooltip("x:Q", title=_("direction 1"), format=".3f"),
                           alt.Tooltip("y:Q", title=_("direction 2"), format=".3f")])
    text = alt.Chart(df).mark_text(fontSize=13, dy=-9, color="#111").encode(x=x, y=y, text="char:N")
    title = _("Each character's embedding, seen from its two main directions")
    far = df.assign(r=np.hypot(df["x"], df["y"])).nlargest(4, "r")
    words = _("{title}: {n} characters; the farthest from the middle: {chars}").format(
        title=title, n=len(df), chars=", ".join(_("{char} at ({x}, {y})").format(char=r.char, x=num(r.x, 2),
                                                                                y=num(r.y, 2))
                                                for r in far.itertuples()))
    return alt.layer(points, text, height=height, title=title, autosize=_FIT_X, description=words)


def runs_chart(points, field, title_x, height=260):
    """Validation loss of the models met so far against `field` ("context" or "weights"); the built-in
    model drawn as a diamond. points: dicts with label, field, val_loss, corpus, builtin."""
    kinds = [_("built-in"), _("yours")]
    df = pd.DataFrame([{"label": p["label"], "x": p[field], "loss": p["val_loss"], "text": p["corpus"],
                        "model": kinds[0] if p["builtin"] else kinds[1]}
                       for p in points if p["val_loss"] is not None])
    log = field == "weights"
    x = alt.X("x:Q", title=title_x, scale=alt.Scale(type="log" if log else "linear", zero=not log),
              axis=alt.Axis(format="~s" if log else "d"))
    chart = alt.Chart(df).mark_point(size=120, filled=True).encode(
        x=x, y=alt.Y("loss:Q", title=_("validation loss (nats per character)"), scale=alt.Scale(zero=False),
                                axis=alt.Axis(format=".2f")),
        shape=alt.Shape("model:N", title=_("model"), scale=alt.Scale(domain=kinds, range=["diamond", "circle"]),
                        legend=alt.Legend(title=None, orient="top")),
        color=alt.Color("model:N", scale=alt.Scale(domain=kinds, range=[VAL_COLOR, TRAIN_COLOR]),
                        legend=None),
        tooltip=[alt.Tooltip("label:N", title=_("model")), alt.Tooltip("text:N", title=_("text")),
                 alt.Tooltip("x:Q", title=title_x, format=","),
                 alt.Tooltip("loss:Q", title=_("validation loss"), format=".4f")])
    title = _("Validation loss against {what}").format(what=title_x)
    words = f"{title}: " + "; ".join(_("{model}: {x} and {loss}").format(model=r.label, x=num(r.x), loss=num(r.loss, 4))
                                     for r in df.itertuples())
    return alt.layer(chart, height=height, title=title, autosize=_FIT_X, description=words)
