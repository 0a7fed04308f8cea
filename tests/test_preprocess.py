"""Tests for engine/preprocess.py (canvas -> MNIST-like input) and engine/drawn.py.

Tests that need real MNIST digits read the gzip IDX test files from the folder
named by the MNIST_DIR environment variable, and the built-in sample's 2,000 real
MNIST test digits (engine/sample/mnist_sample.npz) when it is not set, so they
always run.
"""
import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from engine.data import load_sample
from engine.drawn import STYLES, draw_digit, make_drawn_set, paint_strokes, to_rgba
from engine.preprocess import (ALL_INK, CENTRE, NOTHING_DRAWN, box_resize, box_resize_matrix,
                               centre_of_mass, preprocess_canvas, resize_naive)


def canvas_of(grey):
    """(H, W) uint8 ink -> the RGBA image streamlit-drawable-canvas returns."""
    return to_rgba(np.asarray(grey, np.uint8))


def seven_in_corner(size=280, height=60, brush=8, corner=(12, 15)):
    """A plain 7, `height` px tall, drawn near the top-left corner: (size, size) uint8."""
    strokes = [s * height + np.array(corner, float) for s in STYLES[7][0]]
    return np.round(paint_strokes(strokes, brush, size) * 255).astype(np.uint8)


def ink_extent(image, level=0.0):
    """Height and width of the part of `image` above `level`."""
    rows = np.flatnonzero((image > level).any(axis=1))
    cols = np.flatnonzero((image > level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def read_mnist_test():
    """Real MNIST test digits: (n, 28, 28) uint8 images and (n,) labels. The full test set
    from MNIST_DIR's .gz files when there are some, else the built-in sample's test digits."""
    mnist_dir = os.environ.get("MNIST_DIR")
    if not mnist_dir or not (Path(mnist_dir) / "t10k-images-idx3-ubyte.gz").exists():
        sample = load_sample()
        assert sample.is_sample
        return sample.x_test.reshape(-1, 28, 28), np.asarray(sample.y_test)
    with gzip.open(Path(mnist_dir) / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(Path(mnist_dir) / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


# ---------------------------------------------------------------- nothing / everything drawn

def test_empty_canvas_is_nothing_drawn():
    p = preprocess_canvas(canvas_of(np.zeros((280, 280))))
    assert p.empty and p.message == NOTHING_DRAWN
    assert p.x.shape == (784,) and p.x.dtype == np.float32 and not p.x.any()
    assert p.centred.shape == (28, 28) and p.box is None
    assert preprocess_canvas(None).message == NOTHING_DRAWN   # canvas before its first stroke


def test_one_pixel_is_nothing_drawn():
    grey = np.zeros((280, 280), np.uint8)
    grey[100, 200] = 255
    assert preprocess_canvas(canvas_of(grey)).empty
    grey[100:103, 200:203] = 255                      # 9 pixels: still below MIN_INK
    assert preprocess_canvas(canvas_of(grey)).empty


def test_faint_haze_is_nothing_drawn():
    # A not-quite-black background (value 8 of 255 everywhere) is not ink,
    # although it adds up to 78400 * 8/255 = 2460 pixels' worth.
    assert preprocess_canvas(canvas_of(np.full((280, 280), 8))).empty


def test_small_dot_is_a_drawing():
    # A single tap of a 10 px brush is something drawn (it becomes a blob).
    p = preprocess_canvas(canvas_of(np.round(paint_strokes([np.array([[140.0, 140.0]])], 10, 280) * 255)))
    assert not p.empty and p.x.max() > 0.9


def test_all_ink_canvas():
    # Painted over except a dark border (86% ink): clearly "too much ink".
    grey = np.zeros((280, 280), np.uint8)
    grey[10:-10, 10:-10] = 255
    p = preprocess_canvas(canvas_of(grey))
    assert p.empty and p.message == ALL_INK and not p.x.any()
    # Completely white: with background="auto" that is a blank sheet of white
    # paper (nothing drawn); a page that knows its canvas is black gets ALL_INK.
    white = canvas_of(np.full((280, 280), 255))
    assert preprocess_canvas(white).message == NOTHING_DRAWN
    assert preprocess_canvas(white, background="black").message == ALL_INK


# ---------------------------------------------------------------- the MNIST recipe

def test_small_digit_in_corner_is_scaled_and_centred():
    grey = seven_in_corner()
    p = preprocess_canvas(canvas_of(grey))
    assert not p.empty and p.message == ""
    top, bottom, left, right = p.box
    assert top < 20 and left < 20 and bottom < 90        # found where it was drawn
    assert max(p.resized.shape) == 20
    assert max(ink_extent(p.centred)) in (19, 20, 21)
    assert p.centred.shape == (28, 28) and p.x.shape == (784,) and p.x.dtype == np.float32
    row, col = centre_of_mass(p.centred)
    assert abs(row - CENTRE) <= 1 and abs(col - CENTRE) <= 1
    assert np.array_equal(p.x, p.centred.reshape(784))
    assert 0 <= p.x.min() and p.x.max() <= 1

    # The naive shrink leaves it small and in the corner.
    naive = resize_naive(canvas_of(grey)).reshape(28, 28)
    row, col = centre_of_mass(naive)
    assert row < 6 and col < 6 and max(ink_extent(naive)) <= 8


def test_grey_levels_are_kept_not_thresholded():
    p = preprocess_canvas(canvas_of(seven_in_corner(brush=14)))
    ink = p.x[p.x > 0]
    grey = ink[(ink > 0.05) & (ink < 0.95)]
    assert len(grey) >= 10
    assert len(grey) / len(ink) > 0.2                  # edges are anti-aliased
    assert (p.x > 0.99).any()                          # ... and the stroke's middle is full ink


def test_aspect_ratio_is_kept():
    # A tall thin bar (a "1") stays thin: 200 x 20 px -> 20 x 2 px.
    grey = np.zeros((280, 280), np.uint8)
    grey[40:240, 100:120] = 255
    p = preprocess_canvas(canvas_of(grey))
    assert p.resized.shape == (20, 2)
    assert np.allclose(p.resized, 1)
    assert ink_extent(p.centred) == (20, 2)


def test_box_resize_is_exact_area_averaging():
    R = box_resize_matrix(280, 20)
    assert R.shape == (20, 280) and np.allclose(R.sum(axis=1), 1)
    R = box_resize_matrix(7, 3)                        # fractional overlaps
    assert np.allclose(R.sum(axis=1), 1)
    assert np.allclose(R[0], [3 / 7, 3 / 7, 1 / 7, 0, 0, 0, 0])
    rng = np.random.default_rng(0)
    small = rng.random((20, 13)).astype(np.float32)
    big = np.kron(small, np.ones((10, 10), np.float32))  # upscale 10x by repeating
    assert np.allclose(box_resize(big, 20, 13), small, atol=1e-6)
    assert np.isclose(box_resize(big, 7, 5).mean(), big.mean())  # ink is conserved


# ---------------------------------------------------------------- kinds of image

def test_input_formats_give_the_same_x():
    grey = seven_in_corner(brush=12)
    expected = preprocess_canvas(canvas_of(grey)).x
    variants = {
        "grey uint8": grey,
        "RGB uint8": np.stack([grey] * 3, axis=-1),
        "grey float 0..1": grey / 255.0,
        "grey float 0..255": grey.astype(np.float64),
    }
    for name, image in variants.items():
        assert np.allclose(preprocess_canvas(image).x, expected, atol=1e-5), name


def test_transparent_background_uses_alpha():
    grey = seven_in_corner(brush=12)
    expected = preprocess_canvas(canvas_of(grey)).x
    for colour in (255, 0, 90):                        # white, black or red-ish paint
        rgba = np.zeros((280, 280, 4), np.uint8)
        rgba[..., 0] = colour
        rgba[..., 3] = grey                            # opaque only where painted
        p = preprocess_canvas(rgba)
        assert not p.empty
        assert np.allclose(p.x, expected, atol=1e-5), colour


def test_black_on_white_is_inverted():
    grey = seven_in_corner(brush=12)
    expected = preprocess_canvas(canvas_of(grey)).x
    paper = canvas_of(255 - grey)                      # black pen on white paper
    assert np.allclose(preprocess_canvas(paper).x, expected, atol=1e-5)
    assert np.allclose(preprocess_canvas(paper, background="white").x, expected, atol=1e-5)
    assert np.allclose(resize_naive(paper), resize_naive(canvas_of(grey)), atol=1e-5)
    # Forcing the wrong paper colour finds the whole sheet inked.
    assert preprocess_canvas(paper, background="black").message == ALL_INK


def test_bad_shapes_are_refused():
    for bad in (np.zeros((10, 10, 2)), np.zeros(10), np.zeros((0, 0))):
        with pytest.raises(ValueError):
            preprocess_canvas(bad)
    with pytest.raises(ValueError):
        preprocess_canvas(np.zeros((10, 10)), background="grey")


# ---------------------------------------------------------------- real MNIST digits

def test_upscaled_mnist_digit_comes_back():
    """Cut out an MNIST digit, draw it 10x bigger somewhere on a 280x280
    canvas, and preprocess: we should get the original 28x28 image back,
    because MNIST was made with the same recipe."""
    images, _ = read_mnist_test()
    corr = []
    for k, digit in enumerate(images[:100]):
        rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
        big = np.kron(digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], np.ones((10, 10), np.uint8))
        h, w = big.shape
        top, left = (280 - h) * (k % 3) // 2, (280 - w) * (k // 3 % 3) // 2   # corners, edges, middle
        grey = np.zeros((280, 280), np.uint8)
        grey[top:top + h, left:left + w] = big
        p = preprocess_canvas(canvas_of(grey))
        corr.append(np.corrcoef(p.x, digit.reshape(784) / 255)[0, 1])
    corr = np.array(corr)
    assert np.median(corr) > 0.99
    assert (corr > 0.9).mean() >= 0.95


def ink_centre(image):
    """(row, column) of the ink's centre of mass in pixel-index coordinates, in plain NumPy."""
    image = np.asarray(image, np.float64)
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def test_real_digits_placed_anywhere_come_back_centred_at_14_14():
    """MNIST put each digit's centre of mass on pixel (14, 14) by moving it whole pixels,
    so every real digit has its centre within half a pixel of (14, 14). A real digit drawn
    big anywhere on the canvas must come back the same way."""
    images, _ = read_mnist_test()
    images = images[:200]
    mnist_centres = np.array([ink_centre(d) for d in images])
    assert (np.abs(mnist_centres - 14) <= 0.5 + 1e-6).all(axis=1).mean() >= 0.98   # MNIST's own recipe, checked
    centres = []
    for k, digit in enumerate(images):
        rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
        big = np.kron(digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], np.ones((8, 8), np.uint8))
        h, w = big.shape
        top = (0, 280 - h, 30)[k % 3]                              # at the top, the bottom, or near the top
        left = (5, 280 - w, 40)[k // 3 % 3]                        # ... near the left, at the right, or between
        grey = np.zeros((280, 280), np.uint8)
        grey[top:top + h, left:left + w] = big
        p = preprocess_canvas(canvas_of(grey))
        assert not p.empty
        centres.append(ink_centre(p.centred))
    centres = np.array(centres)
    assert (np.abs(centres - 14) <= 0.5 + 1e-6).all(axis=1).mean() >= 0.98
    assert np.abs(centres.mean(axis=0) - 14).max() < 0.1


def test_preprocessed_drawings_look_like_mnist():
    """Without any trained network: classify the drawn set by the nearest MNIST
    class average. Preprocessed drawings must be far easier to read this way
    than naively shrunk ones."""
    images, labels = read_mnist_test()
    means = np.stack([images[labels == d].reshape(-1, 784).mean(axis=0) / 255 for d in range(10)])
    ink, drawn_labels = make_drawn_set(10, seed=1)

    def accuracy(x):
        distance = ((x[:, None, :] - means[None]) ** 2).sum(axis=2)
        return (distance.argmin(axis=1) == drawn_labels).mean()

    good = accuracy(np.stack([preprocess_canvas(canvas_of(g)).x for g in ink]))
    naive = accuracy(np.stack([resize_naive(canvas_of(g)) for g in ink]))
    assert good > 0.55 and good > naive + 0.25, (good, naive)


# ---------------------------------------------------------------- the drawn set

def test_draw_digit_is_a_canvas_image():
    image = draw_digit(8, np.random.default_rng(0))
    assert image.shape == (280, 280, 4) and image.dtype == np.uint8
    assert (image[..., 3] == 255).all()
    assert np.array_equal(image[..., 0], image[..., 1])
    grey = image[..., 0]
    assert grey.max() == 255 and ((grey > 0) & (grey < 255)).any()   # anti-aliased edges


def test_drawn_set_is_deterministic():
    a_ink, a_labels = make_drawn_set(2, seed=3)
    b_ink, b_labels = make_drawn_set(2, seed=3)
    c_ink, _ = make_drawn_set(2, seed=4)
    assert np.array_equal(a_ink, b_ink) and np.array_equal(a_labels, b_labels)
    assert not np.array_equal(a_ink, c_ink)
    # The set is draw_digit's drawings, in the order 0, 1, ..., 9, 0, 1, ...
    rng = np.random.default_rng(3)
    assert np.array_equal(draw_digit(0, rng)[..., 0], a_ink[0])
    assert np.array_equal(draw_digit(1, rng)[..., 0], a_ink[1])


def test_drawn_set_is_balanced_varied_and_drawable():
    ink, labels = make_drawn_set()
    assert ink.shape == (len(labels), 280, 280) and ink.dtype == np.uint8
    assert len(labels) >= 300
    assert np.array_equal(np.bincount(labels, minlength=10), np.full(10, len(labels) // 10))
    heights = []
    for grey in ink:
        assert not grey[[0, -1]].any() and not grey[:, [0, -1]].any()  # fits on the canvas
        heights.append(ink_extent(grey)[0])
        assert not preprocess_canvas(canvas_of(grey)).empty
    heights = np.array(heights) / 280
    assert heights.min() < 0.35 and heights.max() > 0.8             # small and large drawings
