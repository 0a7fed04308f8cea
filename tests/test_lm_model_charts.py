"""ui/language/model_charts.py: every chart builder makes valid Vega-Lite (show() skips the check) with words
for screen readers, and carries the data it is given."""
import inspect

import numpy as np
import pytest
from test_lm_charts import test_every_chart_is_valid_vega_lite as _valid

from ui.language import model_charts as charts

RNG = np.random.default_rng(0)
LABELS = ["0 · a", "1 · ␣", "2 · b", "3 · a"]
P = np.tril(RNG.random((4, 4)))
P /= P.sum(axis=1, keepdims=True)
POINTS = [{"label": "built-in", "context": 64, "weights": 112_577, "val_loss": 1.9, "corpus": "Tiny Shakespeare",
           "builtin": True},
          {"label": "mine", "context": 8, "weights": 5_000, "val_loss": 2.4, "corpus": "the names", "builtin": False},
          {"label": "no loss", "context": 8, "weights": 5_000, "val_loss": None, "corpus": "?", "builtin": False}]

CASES = [
    (charts.attention_map_chart, (P, LABELS, "P"), {}, 10),
    (charts.attention_map_chart, (P - 0.3, LABELS, "scores"), {"kind": "scores"}, 10),
    (charts.attention_map_chart, (P, LABELS, "small"), {"compact": True}, 10),
    (charts.looks_at_chart, (np.stack([P, P]), LABELS, 2, [0, 1]), {}, 6),
    (charts.embedding_map_chart, (RNG.standard_normal((5, 2)), list("abcde"), [0.4, 0.2]), {}, 5),
    (charts.runs_chart, (POINTS, "context", "context"), {}, 2),
    (charts.runs_chart, (POINTS, "weights", "weights"), {}, 2),
]


def test_every_builder_has_a_case():
    builders = {n for n, f in inspect.getmembers(charts, inspect.isfunction)
                if f.__module__ == charts.__name__ and not n.startswith("_")}
    assert builders == {c[0].__name__ for c in CASES}


@pytest.mark.parametrize("build, args, kwargs, rows", CASES, ids=[c[0].__name__ + str(i) for i, c in enumerate(CASES)])
def test_every_chart_is_valid_vega_lite(build, args, kwargs, rows):
    _valid(build, args, kwargs, rows)
