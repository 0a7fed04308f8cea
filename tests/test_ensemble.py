"""engine/ensemble.py: two networks' probabilities averaged (bench/bench_drawn.py's "averaged" reader)."""
import numpy as np
import pytest

from engine.ensemble import Averaged
from engine.network import Network


def test_the_average_of_two_softmax_networks_is_their_mean_and_a_probability():
    a, b = Network([784, 8, 10], seed=1), Network([784, 8, 10], seed=2)
    x = np.random.default_rng(0).uniform(0, 1, (5, 784)).astype(np.float32)
    both = Averaged([a, b])
    p = both.predict_proba(x)
    np.testing.assert_allclose(p, (a.predict_proba(x) + b.predict_proba(x)) / 2, rtol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    assert np.array_equal(both.predict(x), p.argmax(axis=1))


def test_a_sure_network_outvotes_an_unsure_one():
    sure, unsure = Network([784, 4, 10], seed=1), Network([784, 4, 10], seed=2)
    sure.weights[-1][:] = 0
    sure.biases[-1][:] = 0
    sure.biases[-1][3] = 10                             # always 3, nearly certain
    unsure.weights[-1][:] = 0
    unsure.biases[-1][:] = 0
    unsure.biases[-1][5] = 0.5                          # leans to 5, barely
    x = np.zeros((1, 784), np.float32)
    assert Averaged([sure, unsure]).predict(x)[0] == 3 and unsure.predict(x)[0] == 5


def test_scores_that_are_not_probabilities_are_refused():
    with pytest.raises(ValueError, match="probabilities"):
        Averaged([Network([784, 8, 10], seed=1), Network([784, 8, 10], loss="mse", activation="sigmoid", seed=2)])
