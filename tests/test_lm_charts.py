"""ui/language/charts.py: every chart builder makes valid Vega-Lite (show() skips the check, as for
ui/charts.py) with words for screen readers, and carries the data it is given."""
import inspect

import numpy as np
import pytest

from ui import chart_cache
from ui.language import charts

RNG = np.random.default_rng(0)
LABELS = ["↵", "␣", "a", "b", "c"]
P = RNG.dirichlet(np.ones(5), size=5)

CASES = [
    (charts.one_hot_chart, (np.eye(5)[[2, 0, 4]], ["0 · a", "1 · ↵", "2 · c"], [str(i) for i in range(5)]), {}, 15),
    (charts.count_table_chart, (RNG.integers(0, 5000, (5, 5)), LABELS, "Counts"), {}, 25),
    (charts.probability_table_chart, (P, LABELS, "P"), {}, 25),
    (charts.probability_table_chart, (P - P.T, LABELS, "difference"), {"diverging": True}, 25),
    (charts.next_probs_chart, (P[0], LABELS, "after a"), {}, 5),
    (charts.fit_loss_chart, ([3.3, 2.9, 2.6, 2.5], 2.45), {}, 4),
    (charts.merges_chart, ([1000, 900, 850, 820], 2), {}, 4),
    (charts.lm_loss_chart, (list(range(1, 21)), list(np.linspace(3.3, 2.1, 20)),
                            [{"step": 10, "train_loss": 2.8, "val_loss": 2.9}, {"step": 20, "train_loss": 2.2,
                                                                             "val_loss": 2.3}]),
     {"marks": [(12, "lr 0.002")]}, 20),
]


def test_every_builder_has_a_case():
    builders = {n for n, f in inspect.getmembers(charts, inspect.isfunction)
                if f.__module__ == charts.__name__ and not n.startswith("_")}
    assert builders == {c[0].__name__ for c in CASES}


@pytest.mark.parametrize("build, args, kwargs, rows", CASES, ids=[c[0].__name__ for c in CASES])
def test_every_chart_is_valid_vega_lite(build, args, kwargs, rows):
    build(*args, **kwargs).to_dict(validate=True)
    chart_cache.projector(build(*args, **kwargs)).to_dict(validate=True)
    spec = chart_cache.chart_spec(build, *args, **kwargs)
    assert max(len(d) for d in spec["datasets"].values()) == rows
    assert spec.get("description"), "words for a screen reader"


def test_the_count_table_says_its_largest_cells_in_words():
    counts = np.zeros((5, 5), int)
    counts[2, 1], counts[1, 3] = 7000, 12
    words = chart_cache.to_spec(charts.count_table_chart(counts, LABELS, "Counts"))["description"]
    assert "a then ␣ 7,000, ␣ then b 12" in words
