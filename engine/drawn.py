"""Synthetic digits drawn the way people draw with a mouse on a canvas.

MNIST digits were written with a pen on paper and then carefully normalised.
Digits drawn on a web canvas are different: any size, anywhere on the canvas,
thick round brush strokes, wobbly lines. This module fakes such drawings so we
can measure, without a human in the loop, how well a network trained on MNIST
reads canvas drawings (see bench/bench_drawn.py).

Each digit has a few stroke styles (a 7 with and without a crossbar, an open
and a closed 4, ...). A style is a list of strokes; a stroke is a polyline,
an (n, 2) array of (x, y) points in a box 1 unit high, y pointing down as on
a screen. draw_digit picks a style, distorts it (aspect, slant, rotation,
wobble), places it at a random size and position, and paints it with a round
brush the way the canvas does: white on black, anti-aliased edges.

Two tiers (TIERS): "easy", drawn with some care, and "hard", drawn as anyone
might: tiny to canvas-filling, a 5 to 40 px pen, slanted up to 25 degrees, wobbly.

NumPy only.
"""
from typing import NamedTuple

import numpy as np


# ---------------------------------------------------------------- shapes

def arc(cx, cy, rx, ry, start, stop, step=12):
    """Points on an ellipse from angle `start` to `stop` (degrees): (n, 2).

    Angles are as on a clock face turned into maths: 0 = right, 90 = up,
    180 = left, 270 = down; going from a smaller to a larger angle runs
    anticlockwise on screen. `step` is the angle between points.
    """
    n = max(2, int(abs(stop - start) / step) + 1)
    a = np.radians(np.linspace(start, stop, n))
    return np.stack([cx + rx * np.cos(a), cy - ry * np.sin(a)], axis=1)


def curve(p0, p1, p2, n=10):
    """Quadratic Bezier curve from p0 to p2, pulled towards p1: (n, 2)."""
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2 = (np.asarray(p, float) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2


def line(*points):
    """A polyline through the given (x, y) points: (n, 2)."""
    return np.array(points, float)


def join(*pieces):
    """One stroke made of several pieces drawn without lifting the pen."""
    return np.concatenate([np.asarray(p, float) for p in pieces])


def figure_eight(top_width, bottom_width, n=48):
    """An 8 in one stroke: down the right of the top loop, cross the middle,
    round the bottom loop, cross again, back up the left of the top loop."""
    t = np.linspace(0, 2 * np.pi, n)
    y = (1 - np.cos(t)) / 2                    # 0 (top) -> 1 (bottom) -> 0
    width = np.where(y < 0.5, top_width, bottom_width)
    x = 0.3 + width * np.sin(2 * t)            # crosses x = 0.3 at y = 0.5
    return np.stack([x, y], axis=1)


# Every style is a list of strokes. Digits are about 0.6 wide and 1 high.
STYLES = {
    0: [
        [arc(0.3, 0.5, 0.3, 0.5, 95, 95 + 375)],                 # a round 0, slight overlap
        [arc(0.28, 0.5, 0.24, 0.5, 60, 60 + 365)],               # a narrow 0
        [arc(0.3, 0.5, 0.32, 0.5, 100, 100 - 360)],              # drawn clockwise, small gap
    ],
    1: [
        [line((0.0, 0.0), (0.0, 1.0))],                           # a plain stroke
        [line((-0.2, 0.22), (0.0, 0.0), (0.0, 1.0))],             # with a flag
        [line((-0.2, 0.2), (0.0, 0.0), (0.0, 1.0)),               # flag and base
         line((-0.2, 1.0), (0.2, 1.0))],
    ],
    2: [
        [join(arc(0.3, 0.28, 0.28, 0.28, 160, -35),               # classic: hook, diagonal, base
              line((0.0, 1.0), (0.62, 1.0)))],
        [join(arc(0.3, 0.28, 0.28, 0.28, 160, -30),               # with a little loop at the bottom
              curve((0.5, 0.5), (0.15, 0.75), (0.05, 0.93)),
              curve((0.05, 0.93), (0.06, 1.0), (0.15, 1.0)),
              arc(0.15, 0.9, 0.1, 0.1, 270, 630),
              line((0.65, 0.98)))],
        [join(arc(0.3, 0.25, 0.26, 0.25, 150, 0),                 # Z-like: a short hook, angular
              line((0.56, 0.3), (0.0, 1.0), (0.6, 1.0)))],
    ],
    3: [
        [join(arc(0.3, 0.26, 0.27, 0.24, 150, -90),               # two bumps
              arc(0.3, 0.74, 0.3, 0.26, 90, -150))],
        [join(line((0.02, 0.0), (0.58, 0.0), (0.22, 0.4)),         # flat top
              arc(0.3, 0.69, 0.3, 0.3, 105, -150))],
        [join(arc(0.32, 0.25, 0.26, 0.25, 160, -80),              # bumps with a deep middle
              line((0.12, 0.5)),
              arc(0.3, 0.75, 0.3, 0.25, 100, -160))],
    ],
    4: [
        [line((0.08, 0.0), (0.0, 0.6), (0.65, 0.6)),               # open top
         line((0.45, 0.08), (0.45, 1.0))],
        [line((0.45, 0.0), (0.0, 0.65), (0.65, 0.65)),             # closed (triangle)
         line((0.45, 0.0), (0.45, 1.0))],
        [line((0.2, 0.0), (0.0, 0.58), (0.62, 0.55)),              # slanted open top, stem drawn first
         line((0.48, 0.15), (0.44, 1.0))],
    ],
    5: [
        [join(line((0.1, 0.0), (0.05, 0.45)),                     # stem + belly, then the flag
              arc(0.3, 0.7, 0.3, 0.28, 140, -150)),
         line((0.1, 0.0), (0.6, 0.0))],
        [join(line((0.6, 0.0), (0.08, 0.0), (0.04, 0.45)),        # in one stroke
              arc(0.3, 0.7, 0.3, 0.29, 135, -155))],
        [join(line((0.12, 0.02), (0.06, 0.42)),                   # rounder belly, curved flag
              arc(0.3, 0.68, 0.32, 0.31, 150, -160)),
         curve((0.12, 0.02), (0.35, -0.02), (0.62, 0.03))],
    ],
    6: [
        [join(curve((0.55, 0.0), (0.05, 0.25), (0.04, 0.72)),     # curved stem into a loop
              arc(0.3, 0.73, 0.26, 0.27, 180, 180 + 340))],
        [join(line((0.45, 0.0), (0.06, 0.66)),                    # straight stem
              arc(0.3, 0.74, 0.26, 0.26, 200, 200 + 330))],
        [join(curve((0.6, 0.05), (0.3, -0.05), (0.1, 0.4)),        # hooked top
              curve((0.1, 0.4), (0.02, 0.6), (0.06, 0.75)),
              arc(0.32, 0.74, 0.26, 0.26, 190, 190 + 330))],
    ],
    7: [
        [line((0.0, 0.0), (0.6, 0.0), (0.2, 1.0))],               # plain
        [line((0.0, 0.0), (0.6, 0.0), (0.22, 1.0)),               # with a crossbar
         line((0.2, 0.52), (0.6, 0.5))],
        [join(line((0.0, 0.12), (0.02, 0.0), (0.62, 0.0)),        # little tick, curved stem
              curve((0.62, 0.0), (0.3, 0.45), (0.28, 1.0)))],
    ],
    8: [
        [figure_eight(0.23, 0.29)],                               # one stroke
        [figure_eight(0.27, 0.27)],                               # one stroke, even loops
        [arc(0.3, 0.24, 0.21, 0.24, 90, 90 + 365),                 # two stacked circles
         arc(0.3, 0.73, 0.28, 0.26, 90, 90 - 365)],
    ],
    9: [
        [join(arc(0.3, 0.27, 0.27, 0.26, 10, 10 + 360),           # loop + straight tail
              line((0.56, 0.22), (0.55, 1.0)))],
        [join(arc(0.3, 0.27, 0.27, 0.26, 10, 10 + 360),           # loop + curved tail
              curve((0.57, 0.25), (0.6, 0.9), (0.18, 1.0)))],
        [join(arc(0.32, 0.26, 0.28, 0.26, 0, 360),                # loop + slanted tail
              line((0.6, 0.26), (0.35, 1.0)))],
    ],
}


# ---------------------------------------------------------------- painting

def paint_strokes(strokes, width, size):
    """Paint polylines with a round brush, like the canvas: (size, size) float32.

    strokes: list of (n, 2) arrays of (x, y) points in pixels.
    width:   brush diameter in pixels.
    A pixel's ink is 1 if its centre is inside the brush's path and fades to 0
    over one pixel at the edge (anti-aliasing): ink = clip(r + 0.5 - d, 0, 1)
    with d the distance from the pixel centre to the nearest segment. Only a
    window around each segment is computed, so this is fast.
    """
    canvas = np.zeros((size, size), np.float32)
    r = width / 2
    for stroke in strokes:
        if len(stroke) == 1:
            stroke = np.concatenate([stroke, stroke])             # a dot
        for (x0, y0), (x1, y1) in zip(stroke[:-1].tolist(), stroke[1:].tolist()):
            # The window of pixels the brush can reach along this segment.
            left, right = max(int(min(x0, x1) - r - 1), 0), min(int(max(x0, x1) + r + 2), size)
            top, bottom = max(int(min(y0, y1) - r - 1), 0), min(int(max(y0, y1) + r + 2), size)
            if left >= right or top >= bottom:
                continue
            px = np.arange(left, right) + 0.5 - x0                # pixel centres relative
            py = (np.arange(top, bottom) + 0.5 - y0)[:, None]     # to (x0, y0), broadcast
            dx, dy = x1 - x0, y1 - y0                             # to (rows, cols)
            # Closest point on the segment: (x0, y0) + t*(dx, dy) with t kept
            # in [0, 1]; keeping t in range is what makes the round caps.
            t = (px * dx + py * dy) / max(dx * dx + dy * dy, 1e-12)
            t = np.minimum(np.maximum(t, 0), 1)
            dist = np.hypot(px - t * dx, py - t * dy)
            ink = np.minimum(r + 0.5 - dist, 1)     # negative outside: max() ignores it
            window = canvas[top:bottom, left:right]
            np.maximum(window, ink, out=window)
    return canvas


def wobble(stroke, rng, amount):
    """Add a smooth hand tremor to a stroke: (n, 2) -> (n, 2).

    Random offsets per point, smoothed along the stroke so the line wavers
    rather than zig-zags, plus one shift for the whole stroke (separate
    strokes never quite meet where they should).
    """
    noise = rng.normal(0, amount, stroke.shape)
    for _ in range(2):                          # [1, 2, 1] / 4 smoothing
        padded = np.concatenate([noise[:1], noise, noise[-1:]])
        noise = (padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4
    return stroke + noise + rng.normal(0, amount, 2)


class Tier(NamedTuple):
    """How wild the drawings of a drawn set are (a brush is given for a 280 px canvas)."""
    height: tuple        # digit height, a share of the canvas: uniform in this range
    brush: tuple         # brush diameter in px: uniform in this range ...
    brush_share: float   # ... but at most this share of the digit's height
    slant: float         # shear: the top leans right by up to this (tan of the slant angle)
    rotation: float      # turned by up to this many degrees
    wobble: tuple        # hand tremor (share of the height): uniform in this range
    dense: bool          # strokes resampled to many points first, so straight lines waver too


TIERS = {
    # Drawn with some care: a medium pen, a fair size, an upright digit.
    "easy": Tier(height=(0.25, 0.85), brush=(10, 30), brush_share=1 / 5, slant=0.15, rotation=15,
                 wobble=(0.012, 0.012), dense=False),
    # As anyone draws: tiny to canvas-filling, pen 5 to 40 px, slanted up to 25 degrees, wobbly.
    "hard": Tier(height=(0.1, 1.0), brush=(5, 40), brush_share=1 / 4, slant=float(np.tan(np.radians(25))),
                 rotation=0, wobble=(0.01, 0.035), dense=True),
}


def draw_digit(digit, rng, size=280, tier="easy"):
    """Draw one digit as a canvas would record it: (size, size, 4) uint8 RGBA.

    digit: 0..9.  rng: np.random.Generator (all randomness comes from it).
    White stroke on an opaque black background, like streamlit-drawable-canvas
    with background_color="#000000". Random choices (tier "easy"; see TIERS):
      style      one of STYLES[digit]
      shape      aspect (width x0.8..1.25), slant (shear +-0.15),
                 rotation (+-15 degrees), wobble
      size       digit height 25%..85% of the canvas
      brush      10..30 px on a 280 px canvas, at most 1/5 of the digit's height
      position   anywhere the digit fits on the canvas
    """
    ink, _ = _draw_ink(digit, rng, size, TIERS[tier])
    grey = np.round(ink * 255).astype(np.uint8)
    return to_rgba(grey)


def to_rgba(grey):
    """(H, W) uint8 ink -> (H, W, 4) uint8 white-on-black opaque RGBA."""
    alpha = np.full_like(grey, 255)
    return np.stack([grey, grey, grey, alpha], axis=-1)


def densify(stroke, step=0.03):
    """The same polyline with points at most `step` apart (so a tremor bends straight lines too)."""
    pieces = [stroke[:1]]
    for p0, p1 in zip(stroke[:-1], stroke[1:]):
        n = max(1, int(np.ceil(np.hypot(*(p1 - p0)) / step)))
        pieces.append(p0 + (p1 - p0) * (np.arange(1, n + 1) / n)[:, None])
    return np.concatenate(pieces)


def _draw_ink(digit, rng, size, tier):
    """(ink (size, size) float32, choices dict) for one drawing of `digit` in `tier`.
    The easy tier draws exactly as it always did (the same random numbers in the same order)."""
    styles = STYLES[digit]
    strokes = [s.copy() for s in styles[rng.integers(len(styles))]]

    # Distort in the unit box: wobble, aspect, slant, then rotate.
    lo_w, hi_w = tier.wobble
    amount = lo_w if lo_w == hi_w else rng.uniform(lo_w, hi_w)
    if tier.dense:
        strokes = [densify(s) for s in strokes]
    strokes = [wobble(s, rng, amount) for s in strokes]
    aspect = np.exp(rng.uniform(np.log(0.8), np.log(1.25)))
    shear = rng.uniform(-tier.slant, tier.slant)
    angle = np.radians(rng.uniform(-tier.rotation, tier.rotation))
    c, s = np.cos(angle), np.sin(angle)
    rotate = np.array([[c, -s], [s, c]])
    out = []
    for st in strokes:
        x = st[:, 0] * aspect + shear * (0.5 - st[:, 1])         # slant: top leans right
        out.append(np.stack([x, st[:, 1]], axis=1) @ rotate.T)
    strokes = out

    # Scale to the chosen height and brush, shrinking if it would not fit.
    scale_brush = size / 280
    height = rng.uniform(*tier.height) * size
    width = min(rng.uniform(*tier.brush) * scale_brush, height * tier.brush_share)
    points = np.concatenate(strokes)
    lo, hi = points.min(axis=0), points.max(axis=0)
    extent = np.maximum(hi - lo, 1e-6)
    scale = height / extent[1]
    scale = min(scale, (size - width - 2) / extent[0], (size - width - 2) / extent[1])

    # Place it anywhere it fits (the brush's radius must fit too).
    span = extent * scale
    margin = width / 2 + 1
    offset = np.array([rng.uniform(margin, max(margin, size - margin - span[0])),
                       rng.uniform(margin, max(margin, size - margin - span[1]))])
    strokes = [(st - lo) * scale + offset for st in strokes]
    choices = {"brush": float(width), "height": float(span[1]), "slant": float(np.degrees(np.arctan(shear))),
               "rotation": float(np.degrees(angle)), "wobble": float(amount)}
    return paint_strokes(strokes, width, size), choices


def make_drawn_set(n_per_digit=40, seed=0, size=280, tier="easy", choices=False):
    """A deterministic set of drawn digits: (ink (N, size, size) uint8, labels (N,) uint8).

    tier: "easy" or "hard" (TIERS). choices=True also returns a list of each
    drawing's random choices (brush and height in px, slant and rotation in degrees,
    wobble), so a test can check they stay in the tier's ranges.

    N = 10 * n_per_digit. Digits come in the order 0, 1, ..., 9, 0, 1, ...
    so any prefix of 10*k drawings is balanced. Only the ink is stored (the
    R channel of draw_digit's image; 4x smaller); to_rgba(ink[i]) rebuilds
    the canvas image. The same seed always gives the same set.
    """
    rng = np.random.default_rng(seed)
    labels = np.tile(np.arange(10, dtype=np.uint8), n_per_digit)
    ink = np.empty((len(labels), size, size), np.uint8)
    made = []
    for i, digit in enumerate(labels):
        drawing, picked = _draw_ink(int(digit), rng, size, TIERS[tier])
        ink[i] = np.round(drawing * 255)
        made.append(picked)
    return (ink, labels, made) if choices else (ink, labels)
