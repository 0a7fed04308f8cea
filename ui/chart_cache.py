"""Drawing a chart: pages call show(where, builder, *args), never st.altair_chart.

Building an Altair chart and checking it against the Vega-Lite schema is slow
pure Python: 50-100 ms per chart here, most of a page's time on a rerun, and a
rerun happens on every click. So each chart is built once per distinct input,
turned into a plain Vega-Lite dict without the schema check (tests/test_charts.py
checks every builder against the schema instead) and kept in a small cache
shared by all sessions. A rerun with the same inputs only sends the dict again.
The builders themselves are in ui/charts.py.
"""
import hashlib
import re
import threading
from collections import OrderedDict

import altair as alt
import numpy as np
import pandas as pd

import i18n
from i18n import N_, _

alt.utils.schemapi.disable_debug_mode()   # don't validate each piece while building either
alt.theme.enable("none")                  # as st.altair_chart does: Streamlit's theme, not Altair's sizes

# What each chart of ui/charts.py draws, in words (the first phrase of its docstring): a screen reader's label for a
# chart whose builder gives no description of its own (describe()). A builder not named here is described by its
# docstring, in English.
WHAT = {"activation_bars_chart": N_("A hidden layer's activations, one bar per unit"),
        "before_after_chart": N_("The 10 outputs before and after one update step, side by side per digit"),
        "compare_chart": N_("Several runs' curves in one chart"),
        "digit_pictures_chart": N_("Several 28x28 pictures side by side"),
        "flat_strip_chart": N_("The same digit as one long row of 784 numbers (a 1-pixel-high heat map)"),
        "loss_terms_chart": N_("Each neuron's share of a loss"),
        "matrix_heat_chart": N_("A weight or gradient matrix as a heat map around 0 (blue -, orange +)"),
        "neurons_chart": N_("A layer of output neurons drawn as circles"),
        "pca_map_chart": N_("A 2-D PCA map"),
        "pixel_grid_chart": N_("One digit as a 28x28 heat map, with each 0-255 value written in its cell"),
        "pixel_histogram_chart": N_("How often each pixel value 0..255 occurs (log scale: 0 dominates)"),
        "step_loss_chart": N_("The loss on one image after each update step (step 0 = before any step)"),
        "vector_bars_chart": N_("A layer's numbers (z or a) as bars, one per unit")}

SPEC_CACHE_BYTES = 32_000_000             # the cache's data may use this much memory
_specs = OrderedDict()                    # key -> (spec, bytes), least recently used first
_specs_lock = threading.Lock()            # Streamlit runs each session's script in its own thread
_specs_bytes = 0


def show(where, build, *args, big=False, width="stretch", key=None, on_select="ignore",
         selection_mode=None, **kwargs):
    """Draw the chart build(*args, **kwargs) in `where` (st, a column or a container).

    build: a chart builder of ui/charts.py; its arguments are plain values,
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
    # A chart's words are in the run's language (i18n): one cached spec per language.
    key = (i18n.current(), build.__name__, big, _fingerprint(args), _fingerprint(kwargs))
    with _specs_lock:
        hit = _specs.get(key)
        if hit is not None:
            _specs.move_to_end(key)
    if hit is None:
        chart = build(*args, **kwargs)
        spec = to_spec(projector(chart) if big else chart)
        spec.setdefault("description", describe(build, spec))
        number = number_locale()
        if number:
            spec.setdefault("config", {})["locale"] = {"number": number}
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


def describe(build, spec):
    """Words for a chart whose builder gave none (Vega passes a spec's description to
    screen readers as the chart's label): its title, or what its builder draws."""
    title = spec.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    if isinstance(title, list):
        title = " ".join(title)
    doc = " ".join((build.__doc__ or "").strip().split("\n\n")[0].replace("`", "").split())
    doc = re.split(r"\.\s|;\s|:\s(?![^()]*\))", doc)[0].rstrip(".")    # its first phrase
    doc = _(WHAT[build.__name__]) if build.__name__ in WHAT else doc
    return _("Chart: {what}").format(what=". ".join(part for part in (title, doc) if part))


def number_locale():
    """How Vega writes numbers (axis labels, tooltips, "," and "%" formats) in this run's language: its decimal
    and thousands signs from Babel (12.345,6 in Italian), or None for the source language (Vega's default)."""
    code = i18n.current()
    if code in (i18n.SOURCE, i18n.PSEUDO):
        return None
    from babel.numbers import get_decimal_symbol, get_group_symbol
    return {"decimal": get_decimal_symbol(code), "thousands": get_group_symbol(code), "grouping": [3],
            "currency": ["", ""]}


def projector(chart):
    """The same chart with text big enough for a projector (presenter mode)."""
    return (chart.configure_axis(labelFontSize=16, titleFontSize=18)
                 .configure_legend(labelFontSize=16, titleFontSize=16, symbolSize=160)
                 .configure_title(fontSize=20))


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
    raise TypeError(f"show() cannot use a {type(obj).__name__} as a chart argument")
