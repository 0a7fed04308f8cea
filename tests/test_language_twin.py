"""The transformer's PyTorch twin (bridge/language_twin.py): same weights, same logits, same loss,
same gradient for every weight after one batch; and the same training curve. Skipped without torch."""
import numpy as np
import pytest

pytest.importorskip("torch")

from bridge.language_twin import compare, torch_transformer, train_both  # noqa: E402
from engine.language.models import build_model  # noqa: E402
from engine.language.text import Vocabulary, load_corpus  # noqa: E402
from engine.language.trainer import LMSettings  # noqa: E402

SPEC = {"kind": "transformer", "vocab": 13, "context": 16, "width": 32, "blocks": 2, "heads": 4}


def batch(seed=0, B=3, T=16, V=13):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))


def shaken(spec=SPEC):
    """A model with weights away from their start (LayerNorm gains not all 1, biases not all 0)."""
    model = build_model(spec, seed=2)
    rng = np.random.default_rng(3)
    for p in model.params():
        p += (rng.standard_normal(p.shape) * 0.05).astype(np.float32)
    return model


@pytest.mark.parametrize("float64,tolerance", [(True, 1e-10), (False, 1e-5)])
def test_logits_loss_and_every_gradient_equal_after_one_batch(float64, tolerance):
    result = compare(shaken(), *batch(), float64=float64)
    assert len(result.grads) == len(shaken().params())
    assert result.worst < tolerance, result


@pytest.mark.parametrize("heads,blocks", [(1, 1), (2, 3)])
def test_other_shapes_too(heads, blocks):
    result = compare(shaken({**SPEC, "heads": heads, "blocks": blocks}), *batch(1, T=9), float64=True)
    assert result.worst < 1e-10, result


def test_the_twin_holds_copies_not_the_engine_arrays():
    model = shaken()
    twin = torch_transformer(model)
    before = model.params()[2].copy()
    with __import__("torch").no_grad():
        for p in twin.parameters():
            p.add_(1.0)
    np.testing.assert_array_equal(model.params()[2], before)


def test_both_train_the_same_curve():
    text = load_corpus("names")[:20_000]
    vocab = Vocabulary.of(text)
    model = build_model({**SPEC, "vocab": vocab.size})
    s = LMSettings(context=16, width=32, blocks=2, heads=4, batch_size=8, steps=30, warmup=3, lr=3e-3)
    ours, theirs, _, _ = train_both(model, vocab.encode(text), s, steps=30)
    np.testing.assert_allclose(ours, theirs, atol=2e-3)
    assert ours[-1] < ours[0] - 0.5
