"""The "From digits to words" pages in a real browser: Tokens follows a typed text (its unknown
characters named, its ids the vocabulary's), Next character reads a pasted text and refuses a
binary file in one sentence; full-page screenshots of both, normal and presenter mode, at 1280×720
(tokens*.png, next_character*.png)."""
import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, full_screenshot, key, no_exception, open_page, wait_for_app, wait_for_drawing  # noqa: E402
from engine.language.text import Vocabulary, load_corpus, split  # noqa: E402

SMALL = {"width": 1280, "height": 720}
PASTED = "the cat sat on the mat.\nthe dog sat on the log.\n" * 4


def pick_text(page, name):
    key(page, "lm_text").get_by_text(name, exact=True).click()
    wait_for_app(page)
    no_exception(page)


def type_into(page, widget_key, text):
    box = key(page, widget_key).locator("input, textarea").first
    box.fill(text)
    expect(box).to_have_value(text)
    box.press("Control+Enter" if widget_key == "lm_paste" else "Enter")
    wait_for_app(page)
    no_exception(page)


def screenshots(page, url, name, screenshot_dir):
    page.set_viewport_size(SMALL)
    full_screenshot(page, screenshot_dir / f"{name}.png")
    open_page(page, url + ("&" if "?" in url else "?") + "present=1")
    full_screenshot(page, screenshot_dir / f"{name}_presenter.png")
    no_exception(page)


def test_tokens_follows_a_typed_text(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/tokens")
    pick_text(page, "Tiny Shakespeare")
    # The new text's own example in the box first: typed before, the rerun the choice started would replace it
    expect(key(page, "tk_typed").locator("input")).to_have_value("To be, or not to be", timeout=WAIT)
    typed = "Hello, Zoë 😀!"
    type_into(page, "tk_typed", typed)
    main = page.locator("[data-testid=stMain]")
    warning = main.locator("[data-testid=stAlertContentWarning]")
    expect(warning).to_contain_text("2 different characters of your text are not in the vocabulary", timeout=WAIT)
    expect(warning).to_contain_text("‘ë’ (once), ‘😀’ (once)")
    train, _ = split(load_corpus("shakespeare"))
    vocab = Vocabulary.of(train)
    known = [vocab.ids()[c] for c in typed if c in vocab.chars]
    expect(main.get_by_text(f"ids = {known}")).to_be_visible()
    expect(main.get_by_text("The same 4 numbers, exactly.", exact=False)).to_be_visible()
    wait_for_drawing(page)
    assert page.locator("[data-testid=stMain] img:not([alt]), [data-testid=stMain] img[alt='']").count() == 0
    screenshots(page, f"{app_url}/tokens", "tokens", screenshot_dir)


def test_next_character_reads_a_pasted_text_and_refuses_a_binary_file(page, app_url, screenshot_dir, tmp_path):
    open_page(page, f"{app_url}/next_character")
    pick_text(page, "Your own text")
    main = page.locator("[data-testid=stMain]")
    expect(main.get_by_text("No text yet")).to_be_visible(timeout=WAIT)
    type_into(page, "lm_paste", PASTED)
    train, _ = split(PASTED)
    expect(main.get_by_text(f"The table has {len(set(train))} × {len(set(train))}", exact=False)).to_be_visible(
        timeout=WAIT)
    expect(main.locator("[data-testid=stCode]").filter(has_text="the")).not_to_have_count(0)
    wait_for_drawing(page)
    screenshots(page, f"{app_url}/next_character", "next_character", screenshot_dir)

    binary = tmp_path / "picture.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    page.set_viewport_size({"width": 1400, "height": 900})
    open_page(page, f"{app_url}/next_character")           # a new session: the paste box is empty
    pick_text(page, "Your own text")
    key(page, "lm_upload").locator("input[type=file]").set_input_files(str(binary))
    error = main.locator("[data-testid=stAlertContentError]")
    expect(error).to_have_text("picture.txt is not a text file (it has zero bytes, as pictures, programs and "
                               "UTF-16 files do): choose a .txt file saved as UTF-8.", timeout=WAIT)
    expect(error).to_have_count(1)
    no_exception(page)
