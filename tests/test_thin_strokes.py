"""engine/preprocess.py: strokes far thinner than MNIST's pen are thickened before scaling, and only
those. Widths are checked on lines painted with a known brush (engine/drawn.py's paint_strokes)."""
import numpy as np
import pytest

from engine.drawn import STYLES, paint_strokes, to_rgba
from engine.preprocess import BOX, MNIST_STROKE, THIN_STROKE, preprocess_canvas, stroke_width, thicken


def painted(strokes, brush, size=280):
    return paint_strokes([np.asarray(s, float) for s in strokes], brush, size)


@pytest.mark.parametrize("brush", [4, 9, 16, 30])
def test_stroke_width_of_painted_lines_is_their_brush(brush):
    straight = painted([[(40, 140), (240, 140)]], brush)
    slanted = painted([[(40, 40), (240, 240)]], brush)
    ring = painted([np.stack([140 + 90 * np.cos(t), 140 + 90 * np.sin(t)], 1)
                    for t in [np.linspace(0, 2 * np.pi, 200)]], brush)
    for ink in (straight, slanted, ring):
        assert stroke_width(ink) == pytest.approx(brush, rel=0.2, abs=1.0)


def test_thicken_grows_every_stroke_by_r_on_each_side():
    line = painted([[(20, 50), (80, 50)]], 3, size=100)
    for r in (1, 4, 7):
        grown = thicken(line, r)
        assert grown.shape == (100 + 2 * r, 100 + 2 * r)
        assert stroke_width(grown) == pytest.approx(3 + 2 * r, rel=0.2)
        # Nothing is lost: the old ink is still there, in the middle of the padded picture.
        assert (grown[r:-r, r:-r] >= line).all()
    assert np.array_equal(thicken(line, 0), line)


def seven(height, brush, size=280):
    strokes = [s * height + 20 for s in STYLES[7][0]]
    return to_rgba(np.round(paint_strokes(strokes, brush, size) * 255).astype(np.uint8))


def test_a_thin_pen_on_a_big_digit_is_thickened_to_mnists_width():
    p = preprocess_canvas(seven(230, 5))              # 5 px on 230 px: 0.4 px in the 20 px box
    assert p.thickened > 0
    assert stroke_width(p.centred) >= THIN_STROKE     # no hair-line left
    assert stroke_width(p.centred) == pytest.approx(MNIST_STROKE, rel=0.35)
    # The same digit drawn with a pen of MNIST's width is left alone.
    normal = preprocess_canvas(seven(230, 30))
    assert normal.thickened == 0 and normal.cropped.shape == (normal.box[1] - normal.box[0],
                                                              normal.box[3] - normal.box[2])
    # A small digit drawn with the same thin pen is thick enough once scaled: left alone.
    assert preprocess_canvas(seven(50, 5)).thickened == 0
    assert 5 * BOX / 50 > THIN_STROKE
