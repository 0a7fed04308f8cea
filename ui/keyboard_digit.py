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
from i18n import N_, _, as_is, num
from ui import state

SWITCH, SOURCE, NUMBER, UPLOAD = "draw_keyboard", "draw_source", "draw_test_index", "draw_upload"
TEST_IMAGE, PICTURE = N_("A test image by number"), N_("A picture file (PNG or JPEG)")

MAX_MB = 10                  # a phone photo is 2-5 MB; the browser refuses bigger files
MAX_PIXELS = 40_000_000      # decoded size: 40 megapixels, ~160 MB as RGBA (a phone photo has 12)
KEEP_SIDE = 560              # a picture is shrunk to at most this: 20× MNIST's 28, more than the digit needs


class PictureError(ValueError):
    """An uploaded file that gives no picture; its message is one sentence for the user."""


def read_picture(data, name=None):
    """PNG or JPEG bytes -> ink (H, W) float32 in [0, 1], bright ink on black like the canvas,
    the picture shrunk to at most KEEP_SIDE pixels a side. The paper may be white or dark
    (ink_from_image looks at the border) or transparent. Raises PictureError."""
    name = _("The file") if name is None else name
    if not data:
        raise PictureError(_("{name} is empty (0 bytes): choose a PNG or JPEG picture of one digit.").format(name=name))
    if len(data) > MAX_MB * 2**20:
        raise PictureError(_("{name} is too big ({mb} MB; at most {max} MB): choose a smaller picture of one "
                             "digit.").format(name=name, mb=num(len(data) / 2**20, 1), max=MAX_MB))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.format not in ("PNG", "JPEG"):
                    raise UnidentifiedImageError(im.format)
                if im.width * im.height > MAX_PIXELS:     # read from the header, before decoding
                    raise PictureError(_("{name} is too big ({w}×{h} pixels; at most {max} million): choose a "
                                         "smaller picture of one digit.").format(
                        name=name, w=im.width, h=im.height, max=MAX_PIXELS // 10**6))
                im.draft("RGB", (KEEP_SIDE, KEEP_SIDE))   # JPEG: decode at a fraction of the size
                im.thumbnail((KEEP_SIDE, KEEP_SIDE))      # decodes, then shrinks (keeping its shape)
                rgba = np.asarray(im.convert("RGBA"))
    except PictureError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        # Pillow read a header of more pixels than it ever decodes (about 89 million): a small file
        # that would unpack to gigabytes ("decompression bomb"). Not damaged: too big.
        raise PictureError(_("{name} is too big (its header says more than {max} million pixels): choose a "
                             "smaller picture of one digit.").format(name=name, max=MAX_PIXELS // 10**6)) from None
    except ValueError as err:
        if "too large" not in str(err).lower():      # Pillow: "Decompressed Data Too Large" (a text chunk bomb)
            raise PictureError(_("{name} is not a PNG or JPEG picture that can be read (or it is damaged): "
                                 "choose a photo or scan of one digit.").format(name=name)) from None
        raise PictureError(_("{name} is too big: part of it would unpack to more than Pillow reads: choose a "
                             "smaller picture of one digit.").format(name=name)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError):
        raise PictureError(_("{name} is not a PNG or JPEG picture that can be read (or it is damaged): "
                             "choose a photo or scan of one digit.").format(name=name)) from None
    return ink_from_image(rgba)


def _test_image():
    data = state.dataset()
    n = len(data.y_test)
    st.session_state[NUMBER] = min(int(st.session_state.get(NUMBER, 0)), n - 1)
    index = st.number_input(_("Test image number (0-{last})").format(last=n - 1), 0, n - 1, step=1, key=NUMBER,
                            persist_state="session", help=_("Type a number and press Enter, or use the arrow keys."))
    st.caption(_("Using test image {index} (label {label}) instead of the canvas: switch off to draw again.").format(
        index=index, label=data.y_test[index]))
    return data.x_test[index].reshape(28, 28)


def _uploaded_picture():
    file = st.file_uploader(_("Picture of one digit (PNG or JPEG)"), type=["png", "jpg", "jpeg"], key=UPLOAD,
                            max_upload_size=MAX_MB,
                            help=_("A photo or scan of one digit, dark on light paper or light on dark: "
                                   "it is prepared like a drawing."))
    if file is None:
        return None
    try:                                 # decoded once per file, not on every rerun
        cached = st.session_state.get("draw_upload_ink")
        if cached is None or cached[0] != file.file_id:
            cached = (file.file_id, read_picture(file.getvalue(), as_is(file.name)))
            st.session_state["draw_upload_ink"] = cached
    except PictureError as err:
        st.session_state.pop("draw_upload_ink", None)
        st.error(str(err))
        return None
    ink = cached[1]
    prep = preprocess_canvas(ink, background="black")      # as the page will: nothing there?
    if prep.empty:                                           # (the page would ask to draw instead)
        st.warning((_("No digit found in {name}: it is nearly all ink; choose a picture of one digit on plain "
                      "paper.") if prep.message == ALL_INK else
                    _("No digit found in {name}: it looks blank (or the ink is very faint); choose a picture with "
                      "one clear digit.")).format(name=as_is(file.name)))
        return None
    st.caption(_("Using the picture {name} instead of the canvas: switch off to draw again.").format(name=as_is(file.name)))
    return ink


def picked_image():
    """The switch and its controls; the picked test image or uploaded picture as a grey
    image with bright ink on black (like the canvas), or None when the switch is off
    or no picture is given yet."""
    on = st.toggle(_("⌨️ Use a test image or a picture file instead of drawing"), key=SWITCH,
                   persist_state="session",
                   help=_("Pick a handwritten digit from the test set by its number, or upload a photo of "
                          "one: no mouse needed, the guess appears as text."))
    if not on:
        return None
    words = {TEST_IMAGE: _(TEST_IMAGE), PICTURE: _(PICTURE)}     # (in the run's language, not format_func's)
    source = st.radio(_("Digit from"), [TEST_IMAGE, PICTURE], key=SOURCE, horizontal=True, persist_state="session",
                      format_func=words.get)
    return _test_image() if source == TEST_IMAGE else _uploaded_picture()
