"""ui/charts.py and ui/chart_cache.py: every chart is valid Vega-Lite, and the spec cache
gives the right chart.

Pages draw through chart_cache.show(), which skips Altair's schema check to be fast;
this file does that check instead, for every chart builder.
"""
import inspect
import re
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest

from ui import chart_cache, charts

RNG = np.random.default_rng(0)
IMG = RNG.integers(0, 256, 784).astype(np.uint8)
PROBS = RNG.dirichlet(np.ones(10))
EPOCHS = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.1 / e, "train_acc": 0.9, "val_acc": 0.88}
          for e in (1, 2, 3)]
TERMS = pd.DataFrame({"neuron": [str(k) for k in range(10)], "term": RNG.random(10)})
RUNS = pd.DataFrame({"run": ["a"] * 3 + ["b"] * 3, "x": [1, 2, 3] * 2, "value": RNG.random(6)})

# (builder, args, kwargs, rows of data the chart must carry in total)
CASES = [
    (charts.class_bar_chart, (RNG.integers(1, 100, 10), "Training set"), {}, 10),
    (charts.pixel_grid_chart, (IMG,), {"size": 300}, 784),
    (charts.flat_strip_chart, (IMG,), {}, 784),
    (charts.digit_pictures_chart, (RNG.normal(size=(3, 784)), ["a", "b", "c"]), {"diverging": True}, 3 * 784),
    (charts.pixel_histogram_chart, (RNG.integers(0, 1000, 256),), {}, None),
    (charts.neurons_chart, (np.eye(10)[3],), {"title": "y"}, None),
    (charts.loss_terms_chart, (TERMS, "MSE", "#59a14f"), {}, 10),
    (charts.vector_bars_chart, (RNG.normal(size=32),), {"title": "z1"}, None),
    (charts.vector_bars_chart, (PROBS,), {"digits": True, "highlight": 4}, None),
    (charts.matrix_heat_chart, (RNG.normal(size=(10, 16)),), {}, 160),
    (charts.before_after_chart, (PROBS, np.roll(PROBS, 1), 3), {}, None),
    (charts.batch_loss_chart, (list(range(1, 501)), list(RNG.random(500))), {}, None),
    (charts.batch_loss_chart, (list(range(1, 501)), list(RNG.random(500))),
     {"marks": [(120, "lr 0.05"), (300, "batch 64, L2 0.001")]}, None),
    (charts.epoch_chart, (EPOCHS, "acc"), {"total_epochs": 10}, 6),
    (charts.compare_chart, (RUNS, "epoch", "loss", "Two runs"), {}, 6),
    (charts.confusion_chart, (RNG.integers(0, 50, (10, 10)), True, (2, 7)), {}, None),
    (charts.probability_chart, (PROBS,), {"title": "test image 5"}, None),
    (charts.step_loss_chart, ([2.0, 1.0, 0.5],), {}, 3),
    (charts.activation_bars_chart, (RNG.random(64),), {"top": [3, 9]}, None),
    (charts.pca_map_chart, (RNG.normal(size=(50, 2)), RNG.integers(0, 10, 50), (0.2, 0.1)), {}, None),
    (charts.robustness_chart, ([0, 0.2, 0.4], [0.9, 0.6, 0.3], "noise", "Noise"), {}, None),
    (charts.twin_loss_chart, ([0.9, 0.5, 0.4], [0.9, 0.5, 0.41], "NumPy (1 s)", "PyTorch (2 s)"), {}, 6),
]


def test_every_chart_builder_has_a_case():
    # A builder without a case would skip the schema check that show() leaves out.
    builders = {name for name, f in inspect.getmembers(charts, inspect.isfunction)
                if f.__module__ == charts.__name__ and not name.startswith("_")}
    missing = builders - {build.__name__ for build, *_ in CASES}
    assert not missing, f"add a case to CASES for {sorted(missing)}"


@pytest.mark.parametrize("build, args, kwargs, rows", CASES, ids=[c[0].__name__ for c in CASES])
def test_every_chart_is_valid_vega_lite(build, args, kwargs, rows):
    chart = build(*args, **kwargs)
    chart.to_dict(validate=True)                    # raises on a spec Vega-Lite would reject
    chart_cache.projector(build(*args, **kwargs)).to_dict(validate=True)
    spec = chart_cache.to_spec(build(*args, **kwargs))
    # The data travel as named datasets, and every name the chart uses is there.
    assert spec["datasets"] and all(isinstance(d, pd.DataFrame) for d in spec["datasets"].values())
    used = set()

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"name"} and isinstance(node["name"], str) and node["name"].startswith("ds_"):
                used.add(node["name"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk({k: v for k, v in spec.items() if k != "datasets"})
    assert used == set(spec["datasets"])
    if rows is not None:
        assert max(len(d) for d in spec["datasets"].values()) == rows
    assert "continuousWidth" not in spec.get("config", {}).get("view", {})   # Altair's 300x300 theme is off


def test_the_spec_cache_returns_the_same_chart_for_the_same_input_only():
    counts = np.arange(10) * 7
    a = chart_cache.chart_spec(charts.class_bar_chart, counts, "Train")
    b = chart_cache.chart_spec(charts.class_bar_chart, counts.copy(), "Train")        # equal content: a hit
    (name,) = a["datasets"]
    assert b["datasets"][name] is a["datasets"][name]
    changed = counts.copy()
    changed[4] += 1
    c = chart_cache.chart_spec(charts.class_bar_chart, changed, "Train")
    (frame,) = c["datasets"].values()
    assert frame["examples"].tolist() == changed.tolist()
    d = chart_cache.chart_spec(charts.class_bar_chart, counts, "Test")                 # another title
    assert d["title"] != a["title"]
    big = chart_cache.chart_spec(charts.class_bar_chart, counts, "Train", big=True)
    assert big["config"]["axis"]["labelFontSize"] > 11 and "axis" not in a.get("config", {})
    # Streamlit removes "datasets" from the dict it is given: the cached one must survive that.
    a.pop("datasets")
    assert name in chart_cache.chart_spec(charts.class_bar_chart, counts, "Train")["datasets"]


def test_arguments_are_told_apart_by_value_and_type():
    fp = chart_cache._fingerprint
    assert fp(np.array([1, 2, 3])) == fp(np.array([1, 2, 3]))
    assert fp(np.array([1, 2, 3])) != fp(np.array([1, 2, 4]))
    assert fp(np.array([1, 2, 3], np.int64)) != fp(np.array([1, 2, 3], np.int32))
    assert fp(np.zeros((2, 3))) != fp(np.zeros((3, 2)))
    assert fp([1.0] * 20) != fp([1.0] * 19 + [1.5]) and fp(list(range(20))) == fp(list(range(20)))
    assert fp({"a": 1, "b": 2}) == fp({"b": 2, "a": 1}) != fp({"a": 1, "b": 3})
    assert fp(TERMS) == fp(TERMS.copy()) != fp(TERMS.assign(term=TERMS["term"] + 1))
    assert fp(1) != fp(1.0) and fp("1") != fp(1) and fp(None) != fp("None")
    with pytest.raises(TypeError, match="chart argument"):
        fp(object())


def test_the_cache_stays_within_its_memory_bound(monkeypatch):
    monkeypatch.setattr(chart_cache, "SPEC_CACHE_BYTES", 300_000)
    for k in range(40):                        # 40 different 784-row charts, ~40 kB of data each
        chart_cache.chart_spec(charts.flat_strip_chart, np.full(784, k, np.uint8))
    assert 0 < chart_cache._specs_bytes <= 300_000
    assert chart_cache._specs_bytes == sum(size for _, size in chart_cache._specs.values())
    # The newest is still there; the oldest were dropped.
    (newest,) = chart_cache.chart_spec(charts.flat_strip_chart, np.full(784, 39, np.uint8))["datasets"].values()
    assert newest["value"].eq(39).all()
    keys = [k for k in chart_cache._specs if k[0] == "flat_strip_chart"]
    assert len(keys) < 40


def test_an_altair_chart_converted_elsewhere_still_gets_its_data():
    # The app's data transformer is on for the whole process; outside to_spec it inlines the data.
    df = pd.DataFrame({"x": [1, 2], "y": [3, 4]})
    spec = alt.Chart(df).mark_point().encode(x="x", y="y").to_dict()
    assert [{"x": 1, "y": 3}, {"x": 2, "y": 4}] in spec.get("datasets", {}).values() or \
        spec["data"].get("values") == [{"x": 1, "y": 3}, {"x": 2, "y": 4}]


def test_pages_draw_charts_only_through_show():
    # st.altair_chart would build and validate the chart on every rerun (50-100 ms each),
    # and so would a builder called directly instead of passed to show().
    root = Path(__file__).resolve().parent.parent
    files = [root / "dashboard.py", *sorted((root / "app_pages").glob("*.py")), *sorted((root / "ui").glob("*.py"))]
    offenders = [f.name for f in files if f.name != "chart_cache.py" and
                 ("altair_chart(" in f.read_text() or re.search(r"\bcharts\.[a-z_]+_chart\(", f.read_text()))]
    assert not offenders, offenders
    assert any("from ui.chart_cache import show" in f.read_text() for f in files)


def test_pictures_are_ink_on_paper_and_weights_in_blue_and_orange():
    from ui import pictures
    digit = np.zeros(784, np.uint8)
    digit[0] = 255
    img = pictures.ink_image(digit, scale=2)
    assert img.shape == (58, 58) and img[1, 1] == 0 and img[10, 10] == 255      # ink black, paper white, framed
    assert pictures.ink01_image(digit.reshape(28, 28) / 255, scale=2)[1, 1] == 0
    W = np.zeros((3, 784), np.float32)
    W[0, 0], W[1, 0] = 2.0, -0.5
    grid = pictures.weight_grid_image(W, columns=3, scale=1, gap=2)
    assert grid.shape == (32, 92, 3)
    assert grid[2, 2].tolist() == [230, 97, 1] and grid[2, 32].tolist() == [33, 102, 172]   # each unit at full scale
    assert grid[2, 62].tolist() == [255, 255, 255]                                          # all-zero unit: white


def test_a_confusion_matrix_without_mistakes_draws_no_empty_layer():
    """A class set read perfectly has no mistakes: an empty layer's mark group is an unnamed
    graphic for a screen reader (axe's serious svg-img-alt on the Our class page)."""
    spec = chart_cache.chart_spec(charts.confusion_chart, np.diag([3, 2, 4, 1, 0, 5, 2, 2, 3, 1]))
    sizes = {name: len(rows) for name, rows in spec["datasets"].items()}
    for layer in spec["layer"]:
        name = layer.get("data", {}).get("name")
        assert name is None or sizes[name] > 0, f"layer {layer.get('mark')} has no data"
