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


def _enlarge(img, scale):
    """Each pixel as a scale x scale block (nearest neighbour), for any (h, w[, 3]) array."""
    return np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)


FRAME = np.array([214, 39, 40], np.uint8)      # a red frame: 5:1 against white paper, seen by most eyes
# ... lined inside with black: red on full orange is 1.3:1 and on full blue 1.2:1, so on a feature map's
# strongest cells (where the kernel matched) only a black line stands out (3.6:1 or more, WCAG 1.4.11).
FRAME_LINING = np.array([0, 0, 0], np.uint8)


def _border(img, y0, x0, y1, x1, width, colour):
    img[y0:y0 + width, x0:x1] = img[y1 - width:y1, x0:x1] = colour
    img[y0:y1, x0:x0 + width] = img[y0:y1, x1 - width:x1] = colour


def _frame(img, top, left, size, scale, width=2):
    """Draw a FRAME-coloured square border round cells top..top+size-1, left..left+size-1
    of an image enlarged `scale` times (in place; img is RGB), lined with FRAME_LINING inside."""
    y0, x0, y1, x1 = top * scale, left * scale, (top + size) * scale, (left + size) * scale
    _border(img, y0, x0, y1, x1, width, FRAME)
    if y1 - y0 > 2 * width + 2:          # room for the lining and the cell inside it
        _border(img, y0 + width, x0 + width, y1 - width, x1 - width, 1, FRAME_LINING)
    return img


def signed_image(values, scale=8, peak=None, mark=None, size=None):
    """Real values (a feature map or a kernel, 2-D) -> RGB picture: orange positive, blue negative,
    white 0, scaled by `peak` (default: the largest |value|, so every picture uses its full range).
    mark=(i, j): a red frame round that cell (where a window's output lands).
    size: enlarge as far as fits a size x size square instead of by `scale`, in a thin grey frame,
    so that pictures of different grids line up in a row."""
    v = np.asarray(values, dtype=np.float32)
    peak = float(np.abs(v).max()) if peak is None else float(peak)
    if size is not None:
        scale = max(1, (size - 2) // max(v.shape))
    img = _enlarge(diverging_rgb(v / peak if peak > 0 else v), scale)
    if mark is not None:
        _frame(img, *mark, 1, scale)
    if size is None:
        return img
    img = np.pad(img, ((1, 1), (1, 1), (0, 0)), constant_values=170)     # the grid's edge
    below, right = max(0, size - img.shape[0]), max(0, size - img.shape[1])
    return np.pad(img, ((below // 2, below - below // 2), (right // 2, right - right // 2), (0, 0)),
                  constant_values=255)


PADDING = np.array([205, 222, 240], np.uint8)    # the zeros padding adds: a pale blue band round the paper


def window_image(x_padded, p, top, left, k, scale=8):
    """A padded digit (ink 0..1, (h + 2p, w + 2p)) with its padding tinted and a red frame
    round the k x k window whose top-left cell is (top, left)."""
    ink = 255 - (np.clip(np.asarray(x_padded, dtype=np.float32), 0, 1) * 255).round().astype(np.uint8)
    img = np.repeat(ink[..., None], 3, axis=2)
    if p:
        inside = np.zeros(ink.shape, bool)
        inside[p:-p, p:-p] = True
        img[~inside] = PADDING
    return _frame(_enlarge(img, scale), top, left, k, scale)
# Red (positive) - white (0) - blue (negative), for explanations: red pushes towards the guess (ui/explain.py).
_RED, _BLUE = np.array([178, 24, 43]), np.array([33, 102, 172])


def signed_overlay(values, ink=None, scale=5, peak=None):
    """Signed values (784,) over a digit's ink (784,) in [0, 1]: red where positive, blue where negative,
    the colour as strong as |value| / peak (peak: the largest |value| unless given); the ink shows through as
    light grey. An upscaled RGB uint8 picture with a thin frame."""
    v = np.asarray(values, dtype=np.float32).reshape(28, 28)
    peak = float(np.abs(v).max()) if peak is None else float(peak)
    t = np.clip(v / peak, -1, 1)[..., None] if peak > 0 else np.zeros((28, 28, 1), np.float32)
    paper = 255 - 90 * (np.zeros((28, 28)) if ink is None else np.asarray(ink, dtype=np.float32).reshape(28, 28))
    base = np.repeat(paper[..., None], 3, axis=2)
    rgb = np.where(t > 0, base + t * (_RED - base), base + (-t) * (_BLUE - base)).round().astype(np.uint8)
    rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    return np.pad(rgb, ((1, 1), (1, 1), (0, 0)), constant_values=200)


def signed_legend(width=200, height=14):
    """The colour bar of signed_overlay: blue (-) on the left, white (0) in the middle, red (+) on the right."""
    t = np.linspace(-1, 1, width, dtype=np.float32)[None, :, None]
    base = np.full(3, 255.0)
    row = np.where(t > 0, base + t * (_RED - base), base + (-t) * (_BLUE - base)).round().astype(np.uint8)
    return np.repeat(row, height, axis=0)
