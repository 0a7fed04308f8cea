"""Pictures made with NumPy for st.image: digits as ink on paper, weights as colour grids.

Digits are drawn as "ink on paper", as in the charts: pixel 0 (no ink) is white,
255 (full ink) is black. st.image shows the arrays as they are: no chart is built.
"""
import numpy as np


def ink_image(pixels, scale=4, frame=True):
    """A digit (784,) or any 2-D uint8/float array of 0..255 ink -> an upscaled
    uint8 picture (dark ink on white paper) for st.image, with a thin grey
    frame showing the edge of the 28x28 box."""
    img = np.asarray(pixels, dtype=np.float32)
    if img.ndim == 1:
        img = img.reshape(28, 28)
    img = (255 - np.clip(img, 0, 255)).round().astype(np.uint8)
    img = np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)
    return np.pad(img, 1, constant_values=200) if frame else img


def ink01_image(ink, size=None, scale=None):
    """Ink in [0, 1] (any 2-D shape) -> dark-on-white uint8 picture, enlarged by
    whole pixels (nearest neighbour) to about `size` pixels, or by `scale`."""
    ink = np.asarray(ink, dtype=np.float32)
    if ink.size == 0:
        return np.full((8, 8), 255, np.uint8)
    if scale is None:
        scale = max(1, int((size or 112) // max(ink.shape)))
    return ink_image(ink * 255, scale=scale)


def matrix_image(rows, row_px=4, col_px=1):
    """A slice of the data matrix (k, 784) as a picture: one image per strip of pixels."""
    img = 255 - np.asarray(rows, dtype=np.uint8)
    return np.repeat(np.repeat(img, row_px, axis=0), col_px, axis=1)


# Blue (negative) - white (0) - orange (positive), like the charts' DIVERGING scheme (ui/charts.py).
_NEG, _MID, _POS = np.array([33, 102, 172]), np.array([255, 255, 255]), np.array([230, 97, 1])


def diverging_rgb(values):
    """Values in [-1, 1] -> RGB uint8: blue for negative, white for 0, orange for positive."""
    v = np.clip(np.asarray(values, dtype=np.float32), -1, 1)[..., None]
    rgb = np.where(v < 0, _MID + (-v) * (_NEG - _MID), _MID + v * (_POS - _MID))
    return rgb.round().astype(np.uint8)


def weight_grid_image(W, n_units=32, columns=8, scale=3, gap=2):
    """First-layer weights as a grid of pictures, one per unit: an MLP's (n_hidden, 784) as 28x28
    pictures, a CNN's filters (n_filters, 1, k, k) as k x k pictures (the grey image's one channel).

    Each picture is scaled by its own largest |weight|, so every unit's pattern
    is visible: orange pixels push that unit up, blue ones push it down.
    Returns an RGB uint8 image for st.image."""
    W = np.asarray(W, dtype=np.float32)[:n_units]
    tiles = W[:, 0] if W.ndim == 4 else W.reshape(len(W), 28, 28)
    return tile_grid_image(tiles, columns, scale, gap)


def tile_grid_image(tiles, columns=8, scale=3, gap=2):
    """Pictures (n, h, w) of values of either sign (weights, feature maps) in a grid, blue-white-orange,
    each scaled by its own largest |value| (an all-zero one stays white). RGB uint8 for st.image."""
    tiles = np.asarray(tiles, dtype=np.float32)
    n, h, w = tiles.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    img = np.full((rows * (h * scale + gap) + gap, columns * (w * scale + gap) + gap, 3), 230, np.uint8)
    peak = np.abs(tiles).reshape(n, -1).max(axis=1)[:, None, None]
    norm = tiles / np.where(peak > 0, peak, 1)
    for i, tile in enumerate(norm):
        r, c = divmod(i, columns)
        y, x = gap + r * (h * scale + gap), gap + c * (w * scale + gap)
        img[y:y + h * scale, x:x + w * scale] = np.repeat(np.repeat(diverging_rgb(tile), scale, axis=0), scale, axis=1)
    return img
