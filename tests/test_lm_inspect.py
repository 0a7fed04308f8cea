"""engine/language/inspect.py's sizes and generate.py's bounded cache measurement (the Inside page's numbers)."""
import numpy as np

from engine.language import generate, inspect
from engine.language.models import build_model

SPEC = {"kind": "transformer", "vocab": 20, "context": 16, "width": 16, "blocks": 2, "heads": 2}


def test_sizes_are_the_models_own_counts():
    model = build_model(SPEC)
    n = inspect.sizes(model, tokens=1000)
    assert n["weights"] == model.n_params() == sum(p.size for p in model.params())
    assert n["train_ops"] == model.flops_per_token(backward=True) and n["run_ops"] == 1000 * n["train_ops"]
    assert n["forward_ops"] == model.flops_per_token(backward=False) < n["train_ops"]
    assert n["six_n"] == 6 * model.n_params() and n["gpt2_train_ops"] == 6 * 124_439_808
    assert inspect.sizes(model)["run_ops"] is None


def test_the_measured_length_is_bounded_and_both_ways_write_the_same():
    model = build_model(SPEC)
    assert generate.affordable_length(model, seconds=0.0, least=7) == 7
    assert generate.affordable_length(model, seconds=1e6, most=33) == 33
    r = generate.cache_speed(model, np.array([1]), n=40)
    assert r["identical"] and len(r["ids"]) == r["n"] == 40
    assert np.array_equal(r["ids"], generate.generate(model, [1], 40, seed=1, cache=False))
