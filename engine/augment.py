"""Light data augmentation: slightly moved, turned, resized, thicker or thinner digits.

People draw digits off-centre, slanted and with thick mouse strokes. Showing
the network such variations of the training images while it learns makes it
read drawings better. Everything is done for a whole batch at once.
"""
import numpy as np

SIDE = 28
# At strength 1: images moved by up to MAX_SHIFT pixels along each axis, turned by up to MAX_DEGREES and resized
# by up to MAX_SCALE either way; every range is scaled by the strength.
MAX_SHIFT, MAX_DEGREES, MAX_SCALE = 2.0, 12.0, 0.1


def ranges(strength):
    """What augmentation of this strength does at most: (pixels moved along each axis, degrees turned, scale
    change as a fraction), for words about how a model was trained."""
    return MAX_SHIFT * strength, MAX_DEGREES * strength, MAX_SCALE * strength


def random_affine(images, rng, strength=1.0):
    """Move, rotate and scale each 28x28 image by a small random amount.

    images: (b, 784) float32 in [0, 1]. strength in [0, 1] scales the ranges:
    at 1, shifts up to 2 px, rotations up to 12 degrees, scale 0.9 to 1.1.
    Returns (b, 784) float32 (bilinear interpolation, zeros outside).
    """
    b = images.shape[0]
    angle = np.deg2rad(rng.uniform(-MAX_DEGREES, MAX_DEGREES, b) * strength)
    scale = 1 + rng.uniform(-MAX_SCALE, MAX_SCALE, b) * strength
    shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, (b, 2)) * strength
    # For every output pixel, find where it comes from in the input (inverse map).
    r, c = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) - (SIDE - 1) / 2       # (28, 28) each
    cos, sin = (np.cos(angle) / scale)[:, None, None], (np.sin(angle) / scale)[:, None, None]
    src_r = cos * r + sin * c + (SIDE - 1) / 2 - shift[:, 0, None, None]      # (b, 28, 28)
    src_c = -sin * r + cos * c + (SIDE - 1) / 2 - shift[:, 1, None, None]
    return bilinear(images.reshape(b, SIDE, SIDE), src_r, src_c).reshape(b, SIDE * SIDE)


def bilinear(images, rows, cols):
    """Sample images (b, H, W) at fractional positions rows, cols (b, H, W); 0 outside."""
    b, h, w = images.shape
    padded = np.zeros((b, h + 2, w + 2), dtype=images.dtype)  # a border of zeros
    padded[:, 1:-1, 1:-1] = images
    rows = np.clip(rows + 1, 0, h + 0.999)
    cols = np.clip(cols + 1, 0, w + 0.999)
    r0, c0 = np.floor(rows).astype(np.intp), np.floor(cols).astype(np.intp)
    fr, fc = (rows - r0).astype(images.dtype), (cols - c0).astype(images.dtype)
    r1, c1 = np.minimum(r0 + 1, h + 1), np.minimum(c0 + 1, w + 1)
    k = np.arange(b)[:, None, None]
    top = padded[k, r0, c0] * (1 - fc) + padded[k, r0, c1] * fc
    bottom = padded[k, r1, c0] * (1 - fc) + padded[k, r1, c1] * fc
    return top * (1 - fr) + bottom * fr


def random_thickness(images, rng, strength=1.0):
    """Make some strokes thicker (dilate) and some thinner (erode) by about a pixel.

    images: (b, 784). Returns a new (b, 784) array.
    """
    b = images.shape[0]
    x = images.reshape(b, SIDE, SIDE)
    pad = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    neighbours = np.stack([pad[:, 1:-1, 1:-1], pad[:, :-2, 1:-1], pad[:, 2:, 1:-1],
                           pad[:, 1:-1, :-2], pad[:, 1:-1, 2:]])              # (5, b, 28, 28)
    thick, thin = neighbours.max(axis=0), neighbours.min(axis=0)
    choice = rng.uniform(0, 1, b)
    amount = (rng.uniform(0.3, 1.0, b) * strength).astype(x.dtype)[:, None, None]
    out = x.copy()
    grow, shrink = choice < 0.35 * strength, choice > 1 - 0.15 * strength
    out[grow] += amount[grow] * (thick[grow] - x[grow])
    out[shrink] += amount[shrink] * (thin[shrink] - x[shrink])
    return out.reshape(b, SIDE * SIDE)


def augment(images, rng, strength=1.0):
    """A random variation of each image in the batch (b, 784). strength 0 = unchanged."""
    if strength <= 0:
        return images
    return random_thickness(random_affine(images, rng, strength), rng, strength)


# ---------------------------------------------------------------- digits as people draw them on a canvas
# What augment() above does not show a network, and people draw (engine/drawn.py's wild tier): slants
# up to 35 degrees, pens up to a third of the digit's height, strokes broken where the pen skipped, and
# ways of writing that MNIST hardly has: a slashed zero, a crossed 7, a 1 with a base. augment_drawn
# gives a share of each batch these, on top of augment(). Every image stays prepared as MNIST's are
# (longer side about 20 px, centred), as engine/preprocess.py prepares a drawing.
BOX = 20.0
MAX_SLANT = 35.0                 # degrees, either way
CROSS = {0: "slash", 7: "crossbar", 1: "base"}    # label -> the stroke some people add


def ink_boxes(x, level=0.3):
    """Bounding boxes of the ink above `level` in x (b, 28, 28): top, bottom, left, right (b,) each,
    inclusive pixel indices (an image with no such ink gets the whole image)."""
    rows, cols = x.max(axis=2) > level, x.max(axis=1) > level
    top, left = rows.argmax(axis=1), cols.argmax(axis=1)
    bottom, right = SIDE - 1 - rows[:, ::-1].argmax(axis=1), SIDE - 1 - cols[:, ::-1].argmax(axis=1)
    empty = ~rows.any(axis=1)
    top[empty], left[empty], bottom[empty], right[empty] = 0, 0, SIDE - 1, SIDE - 1
    return top, bottom, left, right


def stroke_widths(x, level=0.5):
    """Each image's average stroke width in pixels (b,): 8 A / (pi P), with A the inked area and P
    the ink/no-ink changes between neighbours (engine/preprocess.py's stroke_width, for a batch)."""
    ink = x > level
    area = ink.sum(axis=(1, 2))
    outline = (ink[:, 1:] != ink[:, :-1]).sum(axis=(1, 2)) + (ink[:, :, 1:] != ink[:, :, :-1]).sum(axis=(1, 2))
    return 8 * area / (np.pi * np.maximum(outline, 1))


def paint_segments(x, p0, p1, width):
    """Paint one straight stroke on each image, anti-aliased like the canvas's round brush.

    x: (b, 28, 28); p0, p1: (b, 2) its ends as (row, column); width: (b,) pen width in pixels.
    ink = clip(width/2 + 0.5 - d, 0, 1), d the distance of a pixel's centre from the segment;
    each pixel keeps the larger of its ink and the stroke's. Returns a new (b, 28, 28)."""
    r, c = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    d = (p1 - p0).astype(np.float32)                                # (b, 2)
    pr, pc = r - p0[:, 0, None, None], c - p0[:, 1, None, None]      # (b, 28, 28) from p0
    dr, dc = d[:, 0, None, None], d[:, 1, None, None]
    t = np.clip((pr * dr + pc * dc) / np.maximum(dr * dr + dc * dc, 1e-6), 0, 1)
    dist = np.hypot(pr - t * dr, pc - t * dc)
    ink = np.clip(width[:, None, None] / 2 + 0.5 - dist, 0, 1).astype(x.dtype)
    return np.maximum(x, ink)


def add_crossings(x, labels, rng, chance=0.5):
    """The strokes some people add (CROSS): a slash through a 0 (corner to corner, either way),
    a crossbar through a 7's stem at about half its height, a base under a 1. Each image of such a
    label gets its stroke with probability `chance`, as wide as its own strokes. x: (b, 28, 28)."""
    b = len(x)
    top, bottom, left, right = (v.astype(np.float32) for v in ink_boxes(x))
    h, w = bottom - top, right - left
    width = np.clip(stroke_widths(x), 1.5, 6)
    p0, p1 = np.zeros((b, 2), np.float32), np.zeros((b, 2), np.float32)
    # A slash: from below the bottom-left corner to beyond the top-right one, or mirrored.
    over = rng.uniform(0, 2, b)
    flip = rng.uniform(size=b) < 0.3
    slash = np.stack([bottom + over, np.where(flip, right + over, left - over)], 1), \
        np.stack([top - over, np.where(flip, left - over, right + over)], 1)
    # A crossbar: across the stem where the 7 is half-way down, from left of the stem to its right.
    row = np.clip(np.round(top + h * rng.uniform(0.45, 0.6, b)), 0, SIDE - 1).astype(int)
    line_ink = x[np.arange(b), row]                                           # (b, 28)
    stem = (line_ink @ np.arange(SIDE)) / np.maximum(line_ink.sum(axis=1), 1e-6)
    cross = np.stack([row, stem - rng.uniform(0.25, 0.45, b) * np.maximum(w, 8)], 1), \
        np.stack([row - rng.uniform(0, 1, b), stem + rng.uniform(0.2, 0.4, b) * np.maximum(w, 8)], 1)
    # A base: along the 1's bottom, centred on where its stroke ends.
    foot = x[np.arange(b), bottom.astype(int)]
    end = (foot @ np.arange(SIDE)) / np.maximum(foot.sum(axis=1), 1e-6)
    half = rng.uniform(0.2, 0.3, b) * h
    base = np.stack([bottom, end - half], 1), np.stack([bottom + rng.uniform(-0.5, 0.5, b), end + half], 1)
    for digit, (a, z) in ((0, slash), (7, cross), (1, base)):
        pick = (labels == digit) & (rng.uniform(size=b) < chance)
        p0[pick], p1[pick] = a[pick], z[pick]
    picked = np.isin(labels, list(CROSS)) & (np.hypot(*(p1 - p0).T) > 0)
    out = x.copy()
    if picked.any():
        out[picked] = paint_segments(x[picked], p0[picked], p1[picked], width[picked])
    return out


def thicken_some(x, rng, chances=(0.45, 0.3, 0.25)):
    """Strokes 0, 1, 2... pixels thicker on each side (a thick pen) with these chances: rounds of a
    3x3 cross maximum, a different number for each image. MNIST's strokes are about 2.5 px wide in
    their 20 px box, a pen a third of the digit's height 6.7 px: two rounds.
    x: (b, 28, 28). Returns (new x, the rounds (b,))."""
    most = len(chances) - 1
    rounds = rng.choice(most + 1, len(x), p=chances)
    out = x.copy()
    for k in range(1, most + 1):                      # a loop over rounds, not over images
        grow = rounds >= k
        pad = np.pad(out[grow], ((0, 0), (1, 1), (1, 1)))
        out[grow] = np.maximum.reduce([pad[:, 1:-1, 1:-1], pad[:, :-2, 1:-1], pad[:, 2:, 1:-1],
                                       pad[:, 1:-1, :-2], pad[:, 1:-1, 2:]])
    return out, rounds


def skip_pen(x, rng, chance=0.3):
    """With probability `chance`, a gap where the pen skipped: the ink within 1.2 px of a random
    inked pixel wiped out. x: (b, 28, 28). Returns a new (b, 28, 28)."""
    b = len(x)
    noise = rng.uniform(size=x.shape) * (x > 0.5)          # a random inked pixel: the largest noise
    at = noise.reshape(b, -1).argmax(axis=1)
    r, c = np.mgrid[0:SIDE, 0:SIDE]
    near = np.hypot(r - (at // SIDE)[:, None, None], c - (at % SIDE)[:, None, None]) <= 1.2
    wipe = near & (rng.uniform(size=b) < chance)[:, None, None] & (noise.reshape(b, -1).max(axis=1) > 0)[:, None, None]
    return np.where(wipe, 0, x).astype(x.dtype)


def slant_and_fit(x, rng, max_degrees=MAX_SLANT, grown=None):
    """Slant each image by up to max_degrees either way (the top leans right for a positive angle)
    and shrink it, if need be, so its longer side is about BOX again, as the preprocessing would.
    grown: (b,) pixels already added to each side by thicken_some (the box grew by twice that).
    x: (b, 28, 28). Returns a new (b, 28, 28) (bilinear interpolation, about the centre)."""
    b = len(x)
    shear = np.tan(np.radians(rng.uniform(-max_degrees, max_degrees, b))).astype(np.float32)
    top, bottom, left, right = ink_boxes(x, level=0.1)
    h, w = bottom - top + 1, right - left + 1
    scale = np.minimum(1, BOX / np.maximum(h, w + np.abs(shear) * h)).astype(np.float32)   # (b,)
    if grown is not None:
        scale = scale * BOX / (BOX + 2 * grown)
    # Output pixel (r, c), about the centre, comes from row r/scale and column c/scale + shear*row.
    r, c = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) - (SIDE - 1) / 2
    src_r = r / scale[:, None, None]
    src_c = c / scale[:, None, None] + shear[:, None, None] * src_r
    return bilinear(x, src_r + (SIDE - 1) / 2, src_c + (SIDE - 1) / 2)


def augment_drawn(images, labels, rng, strength=1.0, share=0.5):
    """augment() for every image, and for a `share` of them first what people do on a canvas:
    a thick pen (thicken_some), a slant of up to MAX_SLANT (slant_and_fit), the strokes some people
    add (add_crossings) and a skipped bit of stroke (skip_pen). images: (b, 784) float32 in [0, 1],
    labels: (b,). Returns (b, 784) float32."""
    b = images.shape[0]
    drawn = rng.uniform(size=b) < share
    out = images.copy()
    if drawn.any():
        x = images[drawn].reshape(-1, SIDE, SIDE)
        x = add_crossings(x, np.asarray(labels)[drawn], rng)
        x, rounds = thicken_some(x, rng)
        x = skip_pen(slant_and_fit(x, rng, grown=rounds), rng)
        out[drawn] = x.reshape(-1, SIDE * SIDE)
    return augment(out, rng, strength)
