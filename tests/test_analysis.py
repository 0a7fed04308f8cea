"""engine/analysis.py: PCA maps, cluster agreement, hard examples, noise and rotation robustness."""
from pathlib import Path

import numpy as np
import pytest

from engine import analysis
from engine.data import load_sample
from engine.metrics import accuracy
from engine.modelfile import load_model
from engine.network import Network

ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "engine" / "models" / "pretrained.npz"


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def trained():
    net, _ = load_model(str(PRETRAINED))
    return net


@pytest.fixture(scope="module")
def test_set(sample):
    return sample.test_float()[:500], sample.y_test[:500]


# ------------------------------------------------------------ PCA

def test_pca_finds_a_known_dominant_direction():
    rng = np.random.default_rng(0)
    d = 6
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    t = rng.standard_normal(400) * 10                    # strong spread along u
    h = 3.0 + t[:, None] * u[None, :] + rng.standard_normal((400, d)) * 0.1
    coords, ratio = analysis.pca_2d(h)
    assert coords.shape == (400, 2) and ratio.shape == (2,)
    # The first coordinate is the position along u (up to the sign), measured from the mean.
    along = (h - h.mean(axis=0)) @ u
    assert abs(np.corrcoef(coords[:, 0], along)[0, 1]) > 0.9999
    assert np.allclose(np.abs(coords[:, 0]), np.abs(along), atol=0.05)
    assert ratio[0] > 0.99
    # Ratios: sorted, non-negative, and together at most all of the variance.
    assert ratio[0] >= ratio[1] >= 0 and ratio.sum() <= 1 + 1e-12
    # The coordinates are centred and uncorrelated (that is what PCA gives).
    assert np.allclose(coords.mean(axis=0), 0, atol=1e-9)
    assert abs(np.corrcoef(coords.T)[0, 1]) < 1e-6


@pytest.mark.parametrize("shape", [(300, 20), (15, 40)])       # more rows than columns, and fewer
def test_pca_matches_the_singular_value_decomposition(shape):
    rng = np.random.default_rng(1)
    h = rng.standard_normal(shape) * np.linspace(3, 0.5, shape[1])
    coords, ratio = analysis.pca_2d(h)
    centred = h - h.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    assert np.allclose(ratio, s[:2] ** 2 / (s ** 2).sum())
    for k in range(2):                                  # same projections up to the sign
        assert np.allclose(np.abs(coords[:, k]), np.abs(centred @ vt[k]), atol=1e-8)
    assert ratio[0] >= ratio[1] and ratio.sum() <= 1


def test_pca_of_data_without_spread_or_with_one_column():
    coords, ratio = analysis.pca_2d(np.ones((10, 5)))
    assert np.all(coords == 0) and np.all(ratio == 0)
    coords, ratio = analysis.pca_2d(np.arange(8.0)[:, None])
    assert ratio[0] == pytest.approx(1.0) and ratio[1] == 0 and np.all(coords[:, 1] == 0)


def test_centroid_agreement():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 50)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    far = centres[labels] + rng.standard_normal((150, 2)) * 0.5
    assert analysis.centroid_agreement(far, labels) == 1.0
    mixed = rng.standard_normal((150, 2))              # no clusters at all: about chance
    assert analysis.centroid_agreement(mixed, labels) < 0.7


def test_layers_get_cleaner_in_the_trained_model(sample, trained):
    x, y = sample.test_float()[:1000], sample.y_test[:1000]
    values = analysis.layer_values(trained, x, scores=True)
    assert [v.shape[1] for v in values] == trained.sizes
    agree = [analysis.centroid_agreement(v, y) for v in values]
    assert agree[0] < agree[1] < agree[-1]


# ------------------------------------------------------------ hidden units

def test_top_units_and_their_evidence(sample, trained):
    x = sample.test_float()[0]
    zs, acts = trained.forward(x[None, :], keep=True)
    a = acts[1][0]
    top = analysis.top_units(a, 8)
    assert len(top) == 8 and np.all(np.diff(a[top]) <= 0) and a[top[0]] == a.max()
    assert len(analysis.top_units(np.array([0.0, -1.0, 2.0]), 3)) == 1      # units that are off are left out
    evidence = analysis.unit_evidence(trained, x, top)
    assert evidence.shape == (8, 784)
    assert np.allclose(evidence.sum(axis=1) + trained.biases[0][top], zs[0][0][top], atol=1e-4)


def test_fingerprint_follows_the_weights(trained):
    twin = trained.copy()
    assert analysis.fingerprint(twin) == analysis.fingerprint(trained)
    twin.weights[0][0, 0] += 1e-3
    assert analysis.fingerprint(twin) != analysis.fingerprint(trained)
    assert analysis.fingerprint(Network([784, 16, 10])) != analysis.fingerprint(Network([784, 32, 10]))


def test_a_hard_example_is_the_least_sure_of_its_pool(sample, trained):
    x, labels = sample.x_train, sample.y_train
    i = analysis.hard_example(trained, x, labels, pool=300, seed=0)
    assert analysis.hard_example(trained, x.astype(np.float32) / 255, labels, pool=300, seed=0) == i  # uint8 or float
    picked = np.random.default_rng(0).choice(len(labels), size=300, replace=False)
    true_out = trained.predict_proba(x[picked].astype(np.float32) / 255)[np.arange(300), labels[picked]]
    assert i == picked[true_out.argmin()]
    assert true_out.min() < 0.5 < np.median(true_out)          # unsure about it, sure about most
    assert analysis.hard_example(trained, x[:5], labels[:5], pool=300, seed=1) in range(5)   # pool > n: all of them


# ------------------------------------------------------------ robustness

def test_noise_level_zero_is_the_plain_accuracy(trained, test_set):
    x, y = test_set
    plain = accuracy(trained.predict(x), y)
    accs = analysis.accuracy_under_noise(trained, x, y, [0.0, 0.3, 0.6], seed=0)
    assert accs[0] == plain
    assert accs[2] < accs[0] - 0.2                      # heavy noise hurts
    again = analysis.accuracy_under_noise(trained, x, y, [0.0, 0.3, 0.6], seed=0)
    assert np.array_equal(accs, again)                  # the seed makes it repeatable


def test_noise_is_clipped_to_the_pixel_range(test_set):
    noisy = analysis.add_noise(test_set[0][:20], 0.6, np.random.default_rng(0))
    assert noisy.min() >= 0 and noisy.max() <= 1 and noisy.dtype == np.float32


def test_rotation_by_zero_is_the_identity(test_set):
    x = test_set[0][:50]
    assert np.array_equal(analysis.rotate(x, 0), x)
    assert np.allclose(analysis.rotate(x, 360), x, atol=1e-4)


def test_rotation_turns_the_picture_counter_clockwise():
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 2, 14:20] = 1                                # a short bar at the top, right of centre
    turned = analysis.rotate(img.reshape(1, 784), 90).reshape(28, 28)
    expected = np.rot90(img[0])                         # numpy's rot90 is counter-clockwise too
    assert np.allclose(turned, expected, atol=1e-4)
    # Every image of a batch is turned the same way, all at once.
    batch = np.concatenate([img.reshape(1, 784), np.roll(img, 3, axis=2).reshape(1, 784)])
    both = analysis.rotate(batch, 37)
    assert np.allclose(both[1], analysis.rotate(batch[1:], 37)[0])


def test_accuracy_falls_for_large_rotations(trained, test_set):
    x, y = test_set
    accs = analysis.accuracy_under_rotation(trained, x, y, [0, 10, 60])
    assert accs[0] == accuracy(trained.predict(x), y)
    assert accs[0] > 0.9
    assert accs[2] < accs[0] - 0.4
