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

Three tiers (TIERS): "easy", drawn with some care; "hard", drawn as anyone
might: tiny to canvas-filling, a 5 to 40 px pen, slanted up to 25 degrees,
wobbly; and "wild", what people really put on a 280x280 canvas: digits from
7% of the canvas high to cut off by its edge, a 3 px pen to one a third of the
canvas wide, slanted up to 35 degrees, strokes broken where the pen skipped or
gone over twice, and more ways of writing some digits (MORE_STYLES: a slashed
zero, a 1 with a base, a 4 like a "y", a curly 7 with a crossbar, ...).

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


# More ways of writing digits, drawn only in the tiers with more_styles (so the
# easy and hard tiers draw exactly what they always drew).
MORE_STYLES = {
    0: [
        [arc(0.3, 0.5, 0.3, 0.5, 95, 95 + 370),                  # a slashed zero
         line((0.02, 0.92), (0.58, 0.08))],
        [arc(0.3, 0.5, 0.27, 0.5, 80, 80 + 360),                 # slashed the other way, corner to corner
         line((0.0, 0.1), (0.6, 0.9))],
    ],
    1: [
        [line((0.0, 0.0), (0.0, 1.0)),                           # a base, no flag
         line((-0.22, 1.0), (0.22, 1.0))],
        [line((-0.3, 0.3), (0.0, 0.0), (0.0, 1.0), (-0.25, 1.0), (0.25, 1.0))],   # long flag and base, one stroke
    ],
    2: [
        [join(arc(0.3, 0.3, 0.3, 0.3, 170, -20),                  # round hook straight down to a curly base
              curve((0.58, 0.4), (0.1, 0.8), (0.02, 1.0)),
              curve((0.02, 1.0), (0.3, 0.9), (0.65, 1.0)))],
    ],
    4: [
        [join(line((0.05, 0.0), (0.05, 0.45)),                    # like a "y": a cup, then the stem
              curve((0.05, 0.45), (0.1, 0.6), (0.55, 0.55))),
         line((0.55, 0.0), (0.55, 1.0))],
        [line((0.5, 1.0), (0.5, 0.0), (0.0, 0.62), (0.7, 0.62))],   # closed, in one stroke from the bottom
        [line((0.4, 0.0), (0.0, 0.6), (0.68, 0.6)),               # the crossbar runs past the stem
         line((0.5, 0.25), (0.5, 1.0))],
    ],
    7: [
        [join(line((0.02, 0.15), (0.0, 0.0)),                     # serif, curly top, crossbar
              curve((0.0, 0.0), (0.3, 0.08), (0.62, 0.0)),
              line((0.25, 1.0))),
         line((0.12, 0.5), (0.55, 0.5))],
        [line((0.0, 0.0), (0.62, 0.0), (0.28, 1.0)),              # crossbar right through the stem
         line((0.1, 0.48), (0.62, 0.46))],
    ],
    9: [
        [join(arc(0.3, 0.26, 0.28, 0.26, 350, 350 - 360),          # loop drawn clockwise, curved tail
              curve((0.58, 0.3), (0.55, 0.8), (0.4, 1.0)))],
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
    # The wild tier's extras (the defaults leave the easy and hard tiers as they were):
    log_brush: bool = False   # brush log-uniform in its range (as many thin pens as thick ones)
    more_styles: bool = False  # MORE_STYLES too
    edge: float = 0.0    # chance that the digit is pushed against one or two edges of the canvas ...
    cut: float = 0.0     # ... and cut off there by up to this share of the pen's radius
    broken: float = 0.0  # chance for each stroke of a gap where the pen skipped
    doubled: float = 0.0  # chance that one stroke is gone over a second time, a little beside itself


TIERS = {
    # Drawn with some care: a medium pen, a fair size, an upright digit.
    "easy": Tier(height=(0.25, 0.85), brush=(10, 30), brush_share=1 / 5, slant=0.15, rotation=15,
                 wobble=(0.012, 0.012), dense=False),
    # As anyone draws: tiny to canvas-filling, pen 5 to 40 px, slanted up to 25 degrees, wobbly.
    "hard": Tier(height=(0.1, 1.0), brush=(5, 40), brush_share=1 / 4, slant=float(np.tan(np.radians(25))),
                 rotation=0, wobble=(0.01, 0.035), dense=True),
    # As people really draw on a 280 px canvas: 7% of it high to canvas-filling, pushed against
    # its edges, a 3 px pen to a third of the canvas (at most 30% of the digit's height), slanted
    # up to 35 degrees, turned up to 10, broken and doubled strokes, more ways of writing digits.
    "wild": Tier(height=(0.07, 1.0), brush=(3, 280 / 3), brush_share=1 / 3, slant=float(np.tan(np.radians(35))),
                 rotation=10, wobble=(0.01, 0.035), dense=True, log_brush=True, more_styles=True,
                 edge=0.3, cut=0.5, broken=0.15, doubled=0.15),
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


def break_strokes(strokes, rng, chance):
    """Each stroke, with probability `chance`, gets a gap where the pen skipped: a stretch of
    0.04 to 0.12 (of the digit's height) cut out somewhere in its middle 70%, which makes it two
    strokes. Returns (strokes, how many were broken)."""
    out, n = [], 0
    for st in strokes:
        along = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(st, axis=0).T))])   # arc length (n,)
        if rng.uniform() >= chance or along[-1] < 0.3:
            out.append(st)
            continue
        gap = rng.uniform(0.04, 0.12)
        start = rng.uniform(0.15, 0.85 - gap / along[-1]) * along[-1]
        before, after = st[along <= start], st[along >= start + gap]
        out += [piece for piece in (before, after) if len(piece)]
        n += 1
    return out, n


def double_stroke(strokes, rng, amount):
    """One stroke (picked at random) gone over again from a random point to its end, a little
    beside itself (0.01 to 0.05 of the digit's height away) and with its own tremor."""
    i = rng.integers(len(strokes))
    st = strokes[i]
    again = st[rng.integers(0, max(1, len(st) // 2)):]
    shift = rng.normal(0, 1, 2)
    shift *= rng.uniform(0.01, 0.05) / max(np.hypot(*shift), 1e-9)
    return strokes + [wobble(again, rng, amount) + shift]


def _place(span, width, size, rng, tier):
    """Where the digit's (x, y) corner goes: (offset (2,), touch).

    Normally anywhere the digit and the pen's radius fit. In a tier with `edge`, a share of the
    digits are pushed against one or two edges (touch=True): their ink reaches the canvas's
    border and is cut off there by up to tier.cut of the pen's radius."""
    r = width / 2
    margin = r + 1
    offset = np.array([rng.uniform(margin, max(margin, size - margin - span[0])),
                       rng.uniform(margin, max(margin, size - margin - span[1]))])
    if not tier.edge or rng.uniform() >= tier.edge:
        return offset, False
    flush = r * (1 - rng.uniform(0, tier.cut))
    sides = rng.integers(0, 3, 2)               # per axis: 0 free, 1 low edge (left/top), 2 high edge
    if not sides.any():
        sides[rng.integers(2)] = rng.integers(1, 3)
    offset = np.where(sides == 1, flush, np.where(sides == 2, size - flush - span, offset))
    return offset, True


def fit_margin(width, tier):
    """The smallest margin a digit is fitted with: its pen's radius plus a pixel, or, in a tier that
    cuts digits off at the edge, only the part of the radius that may not be cut."""
    return width / 2 * (1 - tier.cut) if tier.edge else width / 2 + 1


def _draw_ink(digit, rng, size, tier):
    """(ink (size, size) float32, choices dict) for one drawing of `digit` in `tier`.
    The easy and hard tiers draw exactly as they always did (the same random numbers in the same
    order); the wild tier's extras draw theirs after them."""
    styles = STYLES[digit] + (MORE_STYLES.get(digit, []) if tier.more_styles else [])
    style = int(rng.integers(len(styles)))
    strokes = [s.copy() for s in styles[style]]

    # Distort in the unit box: wobble, aspect, slant, then rotate.
    lo_w, hi_w = tier.wobble
    amount = lo_w if lo_w == hi_w else rng.uniform(lo_w, hi_w)
    if tier.dense:
        strokes = [densify(s) for s in strokes]
    strokes = [wobble(s, rng, amount) for s in strokes]
    broken = doubled = 0
    if tier.broken:
        strokes, broken = break_strokes(strokes, rng, tier.broken)
    if tier.doubled and rng.uniform() < tier.doubled:
        strokes, doubled = double_stroke(strokes, rng, amount), 1
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
    pen = np.exp(rng.uniform(*np.log(tier.brush))) if tier.log_brush else rng.uniform(*tier.brush)
    width = min(pen * scale_brush, height * tier.brush_share)
    points = np.concatenate(strokes)
    lo, hi = points.min(axis=0), points.max(axis=0)
    extent = np.maximum(hi - lo, 1e-6)
    scale = height / extent[1]
    room = size - 2 * fit_margin(width, tier)
    scale = min(scale, room / extent[0], room / extent[1])

    # Place it anywhere it fits (the brush's radius must fit too), or against an edge.
    span = extent * scale
    offset, touch = _place(span, width, size, rng, tier)
    strokes = [(st - lo) * scale + offset for st in strokes]
    ink = paint_strokes(strokes, width, size)
    choices = {"brush": float(width), "height": float(span[1]), "slant": float(np.degrees(np.arctan(shear))),
               "rotation": float(np.degrees(angle)), "wobble": float(amount), "style": style,
               "broken": broken, "doubled": doubled, "pushed_to_edge": touch,
               "touches_edge": bool(ink[[0, -1]].any() or ink[:, [0, -1]].any())}
    return ink, choices


def make_drawn_set(n_per_digit=40, seed=0, size=280, tier="easy", choices=False):
    """A deterministic set of drawn digits: (ink (N, size, size) uint8, labels (N,) uint8).

    tier: "easy", "hard" or "wild" (TIERS). choices=True also returns a list of each
    drawing's random choices (brush and height in px, slant and rotation in degrees,
    wobble, style (index into STYLES[d] + MORE_STYLES[d]), strokes broken, doubled,
    pushed to the edge, touches the edge), so a test can check they stay in the tier's ranges.

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
