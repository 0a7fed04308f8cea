"""Keyboard ways to give the Draw page a digit: pick an MNIST test image by its number,
or upload a picture (a photo or scan of a digit on paper).

For students who cannot draw with a mouse (or use a screen reader): a switch
(Tab, then Space), a choice of source (arrow keys), then a number box (type a
number, Enter, or the arrow keys) or a file box (Enter opens the file dialog).
Either picture goes through the same preprocessing as a drawing, so the page
shows its guess and the same steps.
"""
import io
import warnings

import numpy as np
import streamlit as st
from PIL import Image, UnidentifiedImageError

from engine.preprocess import ALL_INK, ink_from_image, preprocess_canvas
from ui import state

SWITCH, SOURCE, NUMBER, UPLOAD = "draw_keyboard", "draw_source", "draw_test_index", "draw_upload"
TEST_IMAGE, PICTURE = "A test image by number", "A picture file (PNG or JPEG)"

MAX_MB = 10                  # a phone photo is 2-5 MB; the browser refuses bigger files
MAX_PIXELS = 40_000_000      # decoded size: 40 megapixels, ~160 MB as RGBA (a phone photo has 12)
KEEP_SIDE = 560              # a picture is shrunk to at most this: 20× MNIST's 28, more than the digit needs


class PictureError(ValueError):
    """An uploaded file that gives no picture; its message is one sentence for the user."""


def read_picture(data, name="The file"):
    """PNG or JPEG bytes -> ink (H, W) float32 in [0, 1], bright ink on black like the canvas,
    the picture shrunk to at most KEEP_SIDE pixels a side. The paper may be white or dark
    (ink_from_image looks at the border) or transparent. Raises PictureError."""
    if not data:
        raise PictureError(f"{name} is empty (0 bytes): choose a PNG or JPEG picture of one digit.")
    if len(data) > MAX_MB * 2**20:
        raise PictureError(f"{name} is too big ({len(data) / 2**20:.1f} MB; at most {MAX_MB} MB): "
                           "choose a smaller picture of one digit.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.format not in ("PNG", "JPEG"):
                    raise UnidentifiedImageError(im.format)
                if im.width * im.height > MAX_PIXELS:     # read from the header, before decoding
                    raise PictureError(f"{name} is too big ({im.width}×{im.height} pixels; at most "
                                       f"{MAX_PIXELS // 10**6} million): choose a smaller picture of one digit.")
                im.draft("RGB", (KEEP_SIDE, KEEP_SIDE))   # JPEG: decode at a fraction of the size
                im.thumbnail((KEEP_SIDE, KEEP_SIDE))      # decodes, then shrinks (keeping its shape)
                rgba = np.asarray(im.convert("RGBA"))
    except PictureError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        # Pillow read a header of more pixels than it ever decodes (about 89 million): a small file
        # that would unpack to gigabytes ("decompression bomb"). Not damaged: too big.
        raise PictureError(f"{name} is too big (its header says more than {MAX_PIXELS // 10**6} million pixels): "
                           "choose a smaller picture of one digit.") from None
    except ValueError as err:
        if "too large" not in str(err).lower():      # Pillow: "Decompressed Data Too Large" (a text chunk bomb)
            raise PictureError(f"{name} is not a PNG or JPEG picture that can be read "
                               "(or it is damaged): choose a photo or scan of one digit.") from None
        raise PictureError(f"{name} is too big: part of it would unpack to more than Pillow reads: "
                           "choose a smaller picture of one digit.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError):
        raise PictureError(f"{name} is not a PNG or JPEG picture that can be read "
                           "(or it is damaged): choose a photo or scan of one digit.") from None
    return ink_from_image(rgba)


def _test_image():
    data = state.dataset()
    n = len(data.y_test)
    st.session_state[NUMBER] = min(int(st.session_state.get(NUMBER, 0)), n - 1)
    index = st.number_input(f"Test image number (0-{n - 1})", 0, n - 1, step=1, key=NUMBER,
                            persist_state="session", help="Type a number and press Enter, or use the arrow keys.")
    st.caption(f"Using test image {index} (label {data.y_test[index]}) instead of the canvas: "
               "switch off to draw again.")
    return data.x_test[index].reshape(28, 28)


def _uploaded_picture():
    file = st.file_uploader("Picture of one digit (PNG or JPEG)", type=["png", "jpg", "jpeg"], key=UPLOAD,
                            max_upload_size=MAX_MB,
                            help="A photo or scan of one digit, dark on light paper or light on dark: "
                                 "it is prepared like a drawing.")
    if file is None:
        return None
    try:                                 # decoded once per file, not on every rerun
        cached = st.session_state.get("draw_upload_ink")
        if cached is None or cached[0] != file.file_id:
            cached = (file.file_id, read_picture(file.getvalue(), file.name))
            st.session_state["draw_upload_ink"] = cached
    except PictureError as err:
        st.session_state.pop("draw_upload_ink", None)
        st.error(str(err))
        return None
    ink = cached[1]
    prep = preprocess_canvas(ink, background="black")      # as the page will: nothing there?
    if prep.empty:                                           # (the page would ask to draw instead)
        st.warning(f"No digit found in {file.name}: " + (
            "it is nearly all ink; choose a picture of one digit on plain paper." if prep.message == ALL_INK else
            "it looks blank (or the ink is very faint); choose a picture with one clear digit."))
        return None
    st.caption(f"Using the picture {file.name} instead of the canvas: switch off to draw again.")
    return ink


def picked_image():
    """The switch and its controls; the picked test image or uploaded picture as a grey
    image with bright ink on black (like the canvas), or None when the switch is off
    or no picture is given yet."""
    on = st.toggle("⌨️ Use a test image or a picture file instead of drawing", key=SWITCH,
                   persist_state="session",
                   help="Pick a handwritten digit from the test set by its number, or upload a photo of "
                        "one: no mouse needed, the guess appears as text.")
    if not on:
        return None
    source = st.radio("Digit from", [TEST_IMAGE, PICTURE], key=SOURCE, horizontal=True, persist_state="session")
    return _test_image() if source == TEST_IMAGE else _uploaded_picture()
