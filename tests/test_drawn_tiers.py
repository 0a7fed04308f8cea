"""engine/drawn.py's two tiers of synthetic canvas drawings: the hard tier keeps to its stated
ranges (tiny to canvas-filling, a 5-40 px pen, slant up to 25 degrees, wobbly) and every drawing
is a digit the preprocessing finds."""
import numpy as np
import pytest

from engine.drawn import TIERS, draw_digit, make_drawn_set, to_rgba
from engine.preprocess import preprocess_canvas

SIZE = 280


@pytest.fixture(scope="module")
def hard():
    return make_drawn_set(20, seed=5, tier="hard", choices=True)


def test_hard_tier_is_deterministic_and_differs_from_the_easy_one():
    a_ink, a_labels = make_drawn_set(2, seed=3, tier="hard")
    b_ink, b_labels = make_drawn_set(2, seed=3, tier="hard")
    easy, _ = make_drawn_set(2, seed=3)
    assert np.array_equal(a_ink, b_ink) and np.array_equal(a_labels, b_labels)
    assert not np.array_equal(a_ink, make_drawn_set(2, seed=4, tier="hard")[0])
    assert not np.array_equal(a_ink, easy)
    rng = np.random.default_rng(3)                     # the set is draw_digit's drawings, in order
    assert np.array_equal(draw_digit(0, rng, tier="hard")[..., 0], a_ink[0])


def test_hard_tier_keeps_to_its_ranges(hard):
    ink, labels, choices = hard
    assert np.array_equal(np.bincount(labels, minlength=10), np.full(10, 20))
    brush = np.array([c["brush"] for c in choices])
    height = np.array([c["height"] for c in choices])
    slant = np.array([c["slant"] for c in choices])
    assert brush.min() >= 5 and brush.max() <= 40
    assert brush.min() < 8 and brush.max() > 30                        # thin and very thick pens
    assert np.abs(slant).max() <= 25 + 1e-9 and slant.min() < -18 and slant.max() > 18
    whole = height + brush                                             # the ink's height, pen included
    assert whole.min() < 0.15 * SIZE and whole.max() > 0.9 * SIZE      # tiny to canvas-filling
    assert whole.max() <= SIZE
    wob = np.array([c["wobble"] for c in choices])
    assert wob.min() >= TIERS["hard"].wobble[0] and wob.max() <= TIERS["hard"].wobble[1]
    assert wob.max() > TIERS["easy"].wobble[0] * 2                     # wobblier than the easy tier


def test_every_hard_drawing_is_on_the_canvas_and_found(hard):
    ink, labels, choices = hard
    for grey, c in zip(ink, choices):
        assert grey.max() == 255
        assert not grey[[0, -1]].any() and not grey[:, [0, -1]].any()      # nothing cut off at the edge
        rows = np.flatnonzero(grey.any(axis=1))
        assert abs((rows[-1] - rows[0] + 1) - (c["height"] + c["brush"])) <= 3   # the recorded size is drawn
        p = preprocess_canvas(to_rgba(grey))
        assert not p.empty and p.x.any()


def test_easy_tier_keeps_its_own_ranges():
    ink, labels, choices = make_drawn_set(10, seed=2, choices=True)
    brush = np.array([c["brush"] for c in choices])
    height = np.array([c["height"] for c in choices])
    assert (brush >= np.minimum(10, height / 5) - 1e-6).all() and brush.max() <= 30
    assert height.max() <= 0.85 * SIZE + 1e-6
    assert np.abs([c["slant"] for c in choices]).max() <= np.degrees(np.arctan(0.15)) + 1e-9
    assert np.array_equal(make_drawn_set(10, seed=2)[0], ink)        # choices=True draws the same set
