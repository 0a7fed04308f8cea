"""The Draw page's keyboard way in by a picture file (ui/keyboard_digit.py): a PNG or JPEG of a
digit is read, prepared like a drawing and guessed; a bad file gets one clear sentence."""
import io
import re

import numpy as np
import pytest
from PIL import Image

from apptest_utils import open_page, texts
from engine.data import load_mnist
from engine.preprocess import preprocess_canvas
from ui import keyboard_digit
from ui.keyboard_digit import PictureError, read_picture


def _encoded(img, fmt="PNG", **save):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, fmt, **save)
    return buf.getvalue()


def _paper_digit(index=0, size=280):
    """MNIST test image `index` as a photo of paper would be: dark ink on white, `size` pixels a side."""
    ink = load_mnist(download=False).x_test[index].reshape(28, 28)
    big = Image.fromarray(ink).resize((size, size), Image.BILINEAR)
    return 255 - np.asarray(big)


# ------------------------------------------------------------------ reading the file
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_picture_of_dark_ink_on_paper_is_read_like_a_drawing(fmt):
    paper = _paper_digit()
    ink = read_picture(_encoded(paper, fmt))
    assert ink.shape == paper.shape and ink.dtype == np.float32
    assert ink.min() >= 0 and ink.max() <= 1
    # Ink is bright on black, like the canvas: where the paper was dark, the ink is strong.
    expected = 1 - paper / 255
    assert np.abs(ink - expected).mean() < (0.002 if fmt == "PNG" else 0.03)


def test_light_ink_on_dark_paper_and_transparent_pngs_give_the_same_ink():
    paper = _paper_digit()
    on_white = read_picture(_encoded(paper))
    on_black = read_picture(_encoded(255 - paper))
    rgba = np.zeros(paper.shape + (4,), np.uint8)
    rgba[..., 3] = 255 - paper                       # black paint where the digit is, transparent elsewhere
    transparent = read_picture(_encoded(rgba))
    np.testing.assert_allclose(on_black, on_white, atol=1 / 255)
    np.testing.assert_allclose(transparent, on_white, atol=1 / 255)


def test_a_big_photo_is_shrunk_before_preprocessing_and_still_reads_the_same_digit():
    paper = _paper_digit(size=2000)
    ink = read_picture(_encoded(paper, "JPEG", quality=90))
    assert max(ink.shape) == keyboard_digit.KEEP_SIDE
    small = preprocess_canvas(read_picture(_encoded(_paper_digit(size=keyboard_digit.KEEP_SIDE))), "black")
    big = preprocess_canvas(ink, "black")
    assert not big.empty and np.abs(big.x - small.x).mean() < 0.02


def _error(data, name="digit.png"):
    with pytest.raises(PictureError) as err:
        read_picture(data, name)
    words = str(err.value)
    assert words.startswith(name) and words.endswith(".") and not re.search(r"[.!?]\s", words), words  # one sentence
    return words


def test_an_empty_file_says_it_is_empty():
    assert "is empty" in _error(b"")


def test_a_text_file_is_not_a_picture():
    assert "is not a PNG or JPEG picture" in _error(b"7\n" * 100, "digit.png")


def test_a_corrupt_png_is_not_read():
    good = _encoded(_paper_digit())
    assert "is not a PNG or JPEG picture" in _error(good[: len(good) // 2])       # cut off half-way
    broken = bytearray(good)
    broken[60:90] = b"\x00" * 30                                                  # damaged image data
    assert "is not a PNG or JPEG picture" in _error(bytes(broken))


def test_a_picture_in_another_format_is_refused():
    buf = io.BytesIO()
    Image.fromarray(_paper_digit()).save(buf, "GIF")
    assert "is not a PNG or JPEG picture" in _error(buf.getvalue(), "digit.gif")


def test_a_too_big_file_or_picture_is_refused_before_decoding(monkeypatch):
    assert "is too big" in _error(b"\x89PNG" + b"\x00" * (keyboard_digit.MAX_MB * 2**20))
    # A small file that would decode to a huge picture (a "decompression bomb"): refused from its header.
    monkeypatch.setattr(keyboard_digit, "MAX_PIXELS", 100 * 100)
    words = _error(_encoded(np.full((101, 100), 255, np.uint8)))
    assert "is too big (100×101 pixels" in words, words


def _png_header_only(width, height):
    """A PNG of a few dozen bytes whose header claims width x height one-bit pixels."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [10_000, 20_000, 60_000])
def test_a_decompression_bomb_is_called_too_big_not_damaged(side):
    """Issue 21: Pillow refuses to open a picture of more than ~89 million pixels (a small PNG
    that would unpack to gigabytes), and that was shown as "not a picture that can be read
    (or it is damaged)"."""
    words = _error(_png_header_only(side, side), "bomb.png")
    assert words.startswith("bomb.png is too big"), words
    assert "damaged" not in words


def test_a_text_chunk_bomb_is_called_too_big():
    import struct
    import zlib
    good = _encoded(_paper_digit())
    text = b"Comment\x00\x00" + zlib.compress(b" " * 50_000_000, 9)          # 50 MB of spaces, 50 kB packed
    chunk = struct.pack(">I", len(text)) + b"zTXt" + text + struct.pack(">I", zlib.crc32(b"zTXt" + text))
    bomb = good[:33] + chunk + good[33:]                                       # after the IHDR chunk
    words = _error(bomb, "bomb.png")
    assert "damaged" not in words and "too big" in words, words


# ------------------------------------------------------------------ on the Draw page
def _upload(at, name, content, mime="image/png"):
    at.toggle(key="draw_keyboard").set_value(True).run()
    at.radio(key="draw_source").set_value(keyboard_digit.PICTURE).run()
    at.file_uploader(key="draw_upload").set_value((name, content, mime)).run()
    assert not at.exception, at.exception
    return at


def test_draw_page_reads_an_uploaded_picture_and_says_its_guess():
    at = _upload(open_page("app_pages/6_draw.py"), "seven.png", _encoded(_paper_digit(0)))
    picked = preprocess_canvas(read_picture(_encoded(_paper_digit(0))), background="black").x
    np.testing.assert_array_equal(at.session_state["draw_last_x"], picked)
    guess = [m.value for m in at.markdown if 'role="status"' in str(m.value)]
    assert len(guess) == 1 and "The network reads a <b>" in guess[0], [m.value for m in at.markdown]
    assert "Using the picture seven.png" in texts(at.caption)
    assert "From your drawing to 784 numbers" in texts(at.header)
    assert not at.error


@pytest.mark.parametrize("content, words", [(b"", "is empty"), (b"not a picture at all", "is not a PNG or JPEG"),
                                            (_encoded(_paper_digit())[:400], "is not a PNG or JPEG")],
                         ids=["empty", "text", "corrupt"])
def test_draw_page_says_what_is_wrong_with_a_bad_file_and_keeps_working(content, words):
    at = _upload(open_page("app_pages/6_draw.py"), "digit.png", content)
    assert len(at.error) == 1 and words in at.error[0].value, [e.value for e in at.error]
    assert not any('role="status"' in str(m.value) for m in at.markdown)      # no guess from a bad file
    # A good file after a bad one: read as usual.
    at.file_uploader(key="draw_upload").set_value(("seven.png", _encoded(_paper_digit(0)), "image/png")).run()
    assert not at.error and not at.exception
    assert any('role="status"' in str(m.value) for m in at.markdown)


def test_draw_page_says_no_digit_in_a_blank_picture():
    at = _upload(open_page("app_pages/6_draw.py"), "blank.png", _encoded(np.full((200, 200), 255, np.uint8)))
    assert len(at.warning) == 1 and "No digit found in blank.png" in at.warning[0].value
    assert not any('role="status"' in str(m.value) for m in at.markdown)
