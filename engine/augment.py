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
