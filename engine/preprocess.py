"""Turn a drawing into the 784 numbers the network reads, the way MNIST was made.

The MNIST digits were not just "shrunk to 28x28". LeCun et al. describe it:
each digit was size-normalised to fit in a 20x20 box keeping its aspect ratio
(the anti-aliasing of that step makes the grey levels), then placed in a 28x28
image so that its centre of mass sits at the centre. A network trained on MNIST
has only ever seen digits prepared like that, so a digit drawn on a canvas
must be prepared the same way:

    raw      (H, W)     ink in [0, 1] taken from the canvas (1 = ink)
    cropped  (h, w)     the bounding box of the ink; strokes far thinner than
                        MNIST's pen (once scaled to the box) are thickened first
    resized  (<=20, <=20) longer side 20 px, aspect kept, box-filter averaged
    centred  (28, 28)   placed so the centre of mass is at pixel (14, 14)
    x        (784,)     centred, flattened, float32 in [0, 1] (like pixel/255)

`resize_naive` is the shortcut most demos use (shrink the whole canvas to
28x28); the benchmark bench/bench_drawn.py compares the two.

NumPy only.
"""
from dataclasses import dataclass

import numpy as np

# Ink fainter than this (on a 0..1 scale) counts as background. It removes the
# faint haze of a not-quite-black background or compression noise, so that it
# neither counts as "something drawn" nor stretches the bounding box.
INK_FLOOR = 0.05

# Total ink, in "fully inked pixels", below which we say nothing was drawn.
# A stray click or a single pixel is not a digit; the thinnest real stroke on
# a canvas (a 10 px brush) carries hundreds of pixels of ink, and even a
# 28x28 MNIST digit carries about 100.
MIN_INK = 10.0

# If more than this fraction of the canvas is ink, there is no digit to find:
# the user has painted the canvas over (or sent a photo of something else).
# The inkiest of 3,000 drawings of engine/drawn.py's wild tier (canvas-filling,
# a pen near a third of the canvas wide) covers 71% of it, so 75%.
MAX_INK_FRACTION = 0.75

BOX = 20          # MNIST: the digit's longer side is scaled to 20 pixels ...
SIZE = 28         # ... and placed in a 28x28 image ...
CENTRE = 14.0     # ... with its centre of mass at pixel (14, 14). (Measured on
                  # the MNIST test set: mean row 13.99, mean column 14.01, in
                  # pixel-index coordinates where the top-left pixel is (0, 0).)

# MNIST's pen: stroke_width of the 10,000 MNIST test digits (in pixels of their 20x20 box) has
# its 1st percentile at 1.36 and its median at 2.55 (`MNIST_DIR=... python bench/bench_drawn.py
# --mnist`). A drawing whose strokes, scaled to the box, are thinner than 99% of MNIST's (a thin
# pen on a big digit: faint hair-lines after scaling) is thickened to the median first.
THIN_STROKE = 1.36
MNIST_STROKE = 2.55

NOTHING_DRAWN = "Nothing drawn yet: draw a digit"
ALL_INK = "The whole canvas is ink: clear it and draw a digit"

# How bright each colour looks to the eye (ITU-R BT.601 luma weights).
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass
class Preprocessed:
    """Every stage of the preprocessing, so the page can show them all.

    When `empty` is True there is no digit: `message` says why, `raw` holds
    the ink that was found, and the other arrays are all zeros (cropped and
    resized have shape (0, 0)); `x` is then not meant to be classified.
    """
    empty: bool            # True -> nothing to classify, show `message`
    message: str           # "" when a digit was found
    raw: np.ndarray        # (H, W) float32 ink in [0, 1] from the canvas
    cropped: np.ndarray    # (h, w) float32, the ink's bounding box (with thin strokes
                           # thickened: 2 * thickened larger each way)
    resized: np.ndarray    # (<=20, <=20) float32, longer side exactly 20
    centred: np.ndarray    # (28, 28) float32, centre of mass at (14, 14)
    x: np.ndarray          # (784,) float32 in [0, 1], the network's input
    box: tuple = None      # (top, bottom, left, right) of the ink in raw
                           # (bottom/right exclusive), None when empty
    thickened: int = 0     # pixels added to each side of the strokes (0: none)


def ink_from_image(image, background="auto"):
    """Return how much ink each pixel holds: (H, W) float32 in [0, 1].

    image: (H, W, 4) RGBA, (H, W, 3) RGB or (H, W) grey; uint8 (0..255) or
           float (0..1, or 0..255 if any value is above 1).
    background: "auto", "black" or "white" - the colour of the paper.
      "black": ink = brightness (white stroke on black, like the canvas).
      "white": ink = darkness (black pen on white paper).
      "auto":  look at the image's border, which is mostly paper: if its
               median is bright the paper is white.
    If an RGBA image is transparent where nothing was drawn (alpha varies),
    ink is simply the alpha channel: paint is wherever the canvas is opaque,
    whatever its colour.
    """
    img = np.asarray(image)
    if img.size == 0 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {img.shape}")
    # Work on the uint8 (or float) channels directly and make only one
    # float32 (H, W) image: converting the whole RGBA image to float first
    # costs more than everything else here put together.
    scale = np.float32(255 if img.dtype == np.uint8 or (img.size and img.max() > 1) else 1)
    if img.ndim == 3 and img.shape[2] == 4:
        alpha = img[:, :, 3]
        if alpha.min() < alpha.max():        # transparent background
            return np.clip(alpha.astype(np.float32) / scale, 0, 1)
    if img.ndim == 3:                        # colour -> brightness
        w = LUMA / scale
        img = img[:, :, 0] * w[0] + img[:, :, 1] * w[1] + img[:, :, 2] * w[2]
    else:
        img = img.astype(np.float32) / scale
    img = np.clip(img, 0, 1)
    if background == "auto":
        border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
        background = "white" if np.median(border) > 0.5 else "black"
    if background == "white":
        img = 1 - img
    elif background != "black":
        raise ValueError(f"background must be 'auto', 'black' or 'white', not {background!r}")
    return img


def box_resize_matrix(n_in, n_out):
    """Weights that average n_in pixels down (or up) to n_out: (n_out, n_in).

    Output pixel i covers the stretch [i, i+1) * n_in / n_out of the input.
    Its value is the average of the input over that stretch, so each input
    pixel j = [j, j+1) gets the weight (overlap length) / (stretch length).
    This is exact area averaging ("box filter"): a pixel half covered by ink
    becomes half grey, which is where MNIST's anti-aliased edges come from.
    Every row sums to 1, so a fully inked area stays exactly 1.
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)     # output pixel borders
    start, end = edges[:-1, None], edges[1:, None]   # (n_out, 1)
    j = np.arange(n_in)[None, :]                      # (1, n_in)
    overlap = np.clip(np.minimum(end, j + 1) - np.maximum(start, j), 0, None)
    return (overlap / (n_in / n_out)).astype(np.float32)


def box_resize(image, n_rows, n_cols):
    """Area-average a (h, w) image to (n_rows, n_cols).

    Resizing is separable: average down the columns, then along the rows,
    i.e. Ry @ image @ Rx.T with Ry (n_rows, h) and Rx (n_cols, w).
    """
    h, w = image.shape
    Ry, Rx = box_resize_matrix(h, n_rows), box_resize_matrix(w, n_cols)
    # This is Ry @ image @ Rx.T, spelled with np.einsum. `@` hands the work to
    # the multithreaded BLAS library, whose threads can stall for several ms
    # on a busy CPU (say, while the app trains a network); np.einsum does
    # these small products in a plain single-threaded loop in about 0.1 ms.
    return np.einsum("iw,jw->ij", np.einsum("ih,hw->iw", Ry, image), Rx)


def centre_of_mass(image):
    """(row, column) of the ink's centre of mass, in pixel-index coordinates."""
    total = image.sum()
    rows = image.sum(axis=1) @ np.arange(image.shape[0]) / total
    cols = image.sum(axis=0) @ np.arange(image.shape[1]) / total
    return rows, cols


def stroke_width(ink, level=0.5):
    """Average stroke width of the ink (h, w), in pixels: area / length, with the length half the
    outline. The outline is counted as ink/no-ink changes between neighbours (rows and columns),
    which over all directions is 4/pi times the true length on average: width = 8 A / (pi P)."""
    b = np.asarray(ink) > level
    area = int(b.sum())
    outline = int((b[1:] != b[:-1]).sum() + (b[:, 1:] != b[:, :-1]).sum()
                  + b[[0, -1]].sum() + b[:, [0, -1]].sum())        # ink on the edge has an outline too
    return 8 * area / (np.pi * max(outline, 1))


def thicken(ink, r):
    """Strokes r pixels thicker on every side: (h, w) -> (h + 2r, w + 2r), each pixel the largest
    ink within about r of it. r rounds of a 3x3 maximum, square and cross in turn, grow an octagon
    close to a disc of radius r (no Python loop over pixels)."""
    out = np.pad(np.asarray(ink, dtype=np.float32), r)
    for i in range(r):
        across = out.copy()
        np.maximum(across[:, 1:], out[:, :-1], out=across[:, 1:])      # left and right neighbours
        np.maximum(across[:, :-1], out[:, 1:], out=across[:, :-1])
        if i % 2:                                                      # cross: up and down of out
            grown = across
            np.maximum(grown[1:], out[:-1], out=grown[1:])
            np.maximum(grown[:-1], out[1:], out=grown[:-1])
        else:                                                          # square: up and down of across
            grown = across.copy()
            np.maximum(grown[1:], across[:-1], out=grown[1:])
            np.maximum(grown[:-1], across[1:], out=grown[:-1])
        out = grown
    return out


def _empty(raw, message):
    zeros = np.zeros((0, 0), np.float32)
    return Preprocessed(True, message, raw, zeros, zeros,
                        np.zeros((SIZE, SIZE), np.float32),
                        np.zeros(SIZE * SIZE, np.float32))


def preprocess_canvas(image, background="auto"):
    """Prepare a drawing the way MNIST digits were prepared. Returns Preprocessed.

    image: anything `ink_from_image` accepts; typically the (H, W, 4) uint8
           RGBA image_data of streamlit-drawable-canvas (white stroke on a
           black background). None counts as nothing drawn.
    background: "auto" (default), "black" or "white"; see ink_from_image.

    No digit (empty=True) when:
      - the ink adds up to less than MIN_INK pixels: NOTHING_DRAWN;
      - more than MAX_INK_FRACTION of the canvas is ink: ALL_INK.
    Note: with background="auto" a canvas painted entirely white looks exactly
    like a blank sheet of white paper, so it is reported as NOTHING_DRAWN. A
    page that knows its canvas is black can pass background="black" to get
    ALL_INK instead.
    """
    if image is None:                      # the canvas sends None before its first stroke
        return _empty(np.zeros((0, 0), np.float32), NOTHING_DRAWN)
    raw = ink_from_image(image, background)
    raw = np.where(raw < INK_FLOOR, np.float32(0), raw)    # drop faint haze
    if raw.mean() > MAX_INK_FRACTION:
        return _empty(raw, ALL_INK)
    if raw.sum() < MIN_INK:
        return _empty(raw, NOTHING_DRAWN)

    # 1. Crop to the bounding box of the ink.
    rows = np.flatnonzero(raw.any(axis=1))
    cols = np.flatnonzero(raw.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    cropped = raw[top:bottom, left:right]

    # 2. A thin pen on a big digit leaves hair-lines once scaled down, thinner
    #    than any MNIST digit's: thicken such strokes to MNIST's usual width.
    width = stroke_width(cropped)
    scale = BOX / max(cropped.shape)
    r = int(round((MNIST_STROKE / scale - width) / 2)) if width * scale < THIN_STROKE else 0
    if r > 0:
        cropped = thicken(cropped, r)

    # 3. Scale so the longer side is 20 px, keeping the aspect ratio. A "1"
    #    stays thin; it is not stretched into a square.
    h, w = cropped.shape
    scale = BOX / max(h, w)
    n_rows = min(BOX, max(1, round(h * scale)))
    n_cols = min(BOX, max(1, round(w * scale)))
    # (The clip only removes float rounding: averages of values <= 1 are <= 1.)
    resized = np.clip(box_resize(cropped, n_rows, n_cols), 0, 1)

    # 4. Place in 28x28 so the centre of mass lands on (14, 14). Like MNIST we
    #    move by whole pixels; clipping keeps the whole digit inside the image
    #    (a lopsided digit may then end up a pixel or so off-centre).
    com_row, com_col = centre_of_mass(resized)
    row0 = int(np.clip(round(CENTRE - com_row), 0, SIZE - n_rows))
    col0 = int(np.clip(round(CENTRE - com_col), 0, SIZE - n_cols))
    centred = np.zeros((SIZE, SIZE), np.float32)
    centred[row0:row0 + n_rows, col0:col0 + n_cols] = resized

    # 5. Flatten. Values are already in [0, 1], the same scale as MNIST's
    #    pixel / 255 that the network was trained on.
    x = centred.reshape(SIZE * SIZE).copy()
    return Preprocessed(False, "", raw, cropped, resized, centred, x,
                        (int(top), int(bottom), int(left), int(right)), max(r, 0))


def resize_naive(image, background="auto"):
    """The shortcut most demos use: shrink the whole canvas to 28x28.

    Same ink extraction as preprocess_canvas, then area-average the whole
    canvas to 28x28, with no cropping, no 20 px box and no centring, so a
    digit drawn small or in a corner stays small or in a corner.
    Returns x: (784,) float32 in [0, 1].
    """
    raw = ink_from_image(image, background)
    raw = np.where(raw < INK_FLOOR, np.float32(0), raw)
    return np.clip(box_resize(raw, SIZE, SIZE).reshape(SIZE * SIZE), 0, 1).astype(np.float32)
