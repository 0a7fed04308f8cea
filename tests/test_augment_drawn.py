"""engine/augment.py's augment_drawn, the built-in models' training for digits drawn on a canvas: each
piece does what it says (a stroke painted where asked, a slash through 0s and only 0s, thicker strokes,
slants within 35 degrees that still fit the 20 px box, a gap), and the Trainer hands it the batch's labels."""
import numpy as np
import pytest

from engine.augment import (add_crossings, augment_drawn, ink_boxes, paint_segments, skip_pen, slant_and_fit,
                            stroke_widths, thicken_some)
from engine.data import load_sample
from engine.network import Network
from engine.trainer import Settings, Trainer


@pytest.fixture(scope="module")
def digits():
    data = load_sample()
    return data.x_train[:400].astype(np.float32).reshape(-1, 28, 28) / 255, data.y_train[:400].astype(np.int64)


def test_paint_segments_paints_a_round_ended_stroke_where_asked():
    x = np.zeros((1, 28, 28), np.float32)
    out = paint_segments(x, np.array([[14.0, 5.0]]), np.array([[14.0, 20.0]]), np.array([3.0]))[0]
    assert (out[14, 5:21] == 1).all() and (out[13, 5:21] == 1).all() and (out[15, 5:21] == 1).all()
    assert not out[:12].any() and not out[17:].any()           # 3 px wide: rows 13-15, edges fade by row 12/16
    assert not out[:, :3].any() and not out[:, 23:].any()       # round ends: 1.5 px past each end at most
    assert not x.any()                                          # the input is left as it was


def test_crossings_slash_the_zeros_cross_the_sevens_and_leave_other_digits(digits):
    x, y = digits
    out = add_crossings(x, y, np.random.default_rng(0), chance=1.0)
    added = (out - x).reshape(len(x), -1).sum(axis=1)
    mine = np.isin(y, (0, 1, 7))
    assert (added[~mine] == 0).all()                            # 2s, 3s... untouched
    assert (added[mine] > 3).mean() > 0.95                      # a stroke of several pixels on nearly all
    top, bottom, left, right = ink_boxes(x)
    for i in np.flatnonzero(y == 0)[:20]:                       # a slash: ink new at the centre of the 0's hole
        r, c = (top[i] + bottom[i]) // 2, (left[i] + right[i]) // 2
        assert out[i, r - 1:r + 2, c - 1:c + 2].max() > 0.9
    none = add_crossings(x, y, np.random.default_rng(0), chance=0.0)
    assert np.array_equal(none, x)


def test_thicken_some_makes_strokes_thicker_by_the_rounds_it_says(digits):
    x, _ = digits
    out, rounds = thicken_some(x, np.random.default_rng(1))
    assert set(np.unique(rounds)) == {0, 1, 2}
    before, after = stroke_widths(x), stroke_widths(out)
    assert np.array_equal(out[rounds == 0], x[rounds == 0])
    for k in (1, 2):
        grew = np.median(after[rounds == k] - before[rounds == k])
        assert 1.2 * k < grew < 2.6 * k, (k, grew)               # about 2 px wider a round


def _slant_degrees(image):
    """The slant of the ink from the vertical, degrees: the regression of column on row."""
    r, c = np.nonzero(image > 0.3)
    return np.degrees(np.arctan(-np.polyfit(r, c, 1)[0]))


def test_slant_and_fit_slants_up_to_35_degrees_and_keeps_the_box():
    box = np.zeros((300, 28, 28), np.float32)
    box[:, 4:24, 8:20] = 1                                       # an upright "0", 20 px high, 12 wide ...
    box[:, 6:22, 10:18] = 0                                      # ... with a 2 px pen
    out = slant_and_fit(box, np.random.default_rng(2))
    angles = np.array([_slant_degrees(im) for im in out])
    assert np.abs(angles).max() <= 37 and angles.max() > 30 and angles.min() < -30
    top, bottom, left, right = ink_boxes(out)
    assert (np.maximum(bottom - top, right - left) + 1 <= 21).all()     # still fits a 20 px box (12 + 20 tan 35
    assert (bottom - top + 1 < 19).any()                                # = 26 px wide unless shrunk)


def test_skip_pen_wipes_a_small_gap_in_the_ink(digits):
    x, _ = digits
    out = skip_pen(x, np.random.default_rng(3), chance=1.0)
    wiped = ((x > 0) & (out == 0)).reshape(len(x), -1).sum(axis=1)
    assert (out <= x).all() and (wiped >= 1).all() and wiped.max() <= 9     # a disc of radius 1.2: 9 pixels


def test_the_trainer_gives_the_augmenter_each_batchs_own_labels():
    data = load_sample()
    x, y = data.x_train[:256], data.y_train[:256]
    s = Settings(sizes=(784, 8, 10), batch_size=64, epochs=1, val_fraction=0.0, augment=0.5, seed=1)
    trainer = Trainer(Network([784, 8, 10], seed=0), x, y, s)
    seen = []

    def spy(images, labels, rng, strength):
        seen.append((images.copy(), labels.copy()))
        return augment_drawn(images, labels, rng, strength)

    trainer.augmenter = spy
    trainer.run(batches=4)
    assert len(seen) == 4
    raw = x.astype(np.float32) / 255
    for images, labels in seen:                                  # each image arrives with its own label
        rows = [int(np.flatnonzero((raw == im).all(axis=1))[0]) for im in images]
        assert np.array_equal(y[rows], labels)
