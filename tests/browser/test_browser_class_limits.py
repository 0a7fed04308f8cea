"""Issue 21 (6, 7) in a real browser, on a server of its own with a teacher passcode and small
class-set limits: a student's wrong passcodes never keep the right one out (in another browser
or in the student's own), and a flood from many new browsers (new cookies) is stopped per
client address and for the whole server, with its sentence on the Draw page.

Every browser here connects from this machine; the flood's browsers name other client
addresses with X-Forwarded-For, which the server (uvicorn, under Streamlit) takes only from a
proxy it trusts: by default one on this machine, as here (docs/class_limits.md).
"""
import re
import time

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import VIEWPORT, WAIT, button, key, open_page, wait_for_app, wait_visible  # noqa: E402
from test_browser_draw import STROKES, draw_with_mouse, guess  # noqa: E402

PASSCODE = "crocus-7-never-held"
PER_ADDRESS, SERVER = 2, 3            # drawings a minute, as set for this server


@pytest.fixture(scope="module")
def limits_app(start_app, tmp_path_factory):
    db = tmp_path_factory.mktemp("class-limits") / "class.sqlite3"
    url = start_app("server-class-limits.log", DIGITS_TEACHER_PASSCODE=PASSCODE, DIGITS_DB=str(db),
                    DIGITS_CLASS_PER_ADDRESS_MINUTE=str(PER_ADDRESS), DIGITS_CLASS_SERVER_MINUTE=str(SERVER))
    return url, db


def try_passcode(page, passcode):
    box = key(page, "class_passcode").locator("input")
    if not box.is_visible():              # the expander stays open across reruns: open it only once
        page.locator("[data-testid=stExpander] summary", has_text="Teacher controls").click()
    expect(box).to_be_visible(timeout=WAIT)
    box.fill(passcode)
    box.press("Enter")


def test_wrong_tries_never_keep_the_right_passcode_out(page, other_page, limits_app):
    url, _ = limits_app
    open_page(page, f"{url}/class")                     # a student
    open_page(other_page, f"{url}/class")               # the teacher, on the same address (a school's one)
    for n in range(4):                                  # held 1, 2, 4, 8 s: the next wrong try would wait 16 s
        try_passcode(page, f"let-me-in-{n}")
        wait_visible(page, page.get_by_text(f"Wrong passcode (answered after {2 ** n} s"))
        wait_for_app(page)
    expect(button(page, "class_clear")).to_have_count(0)

    start = time.monotonic()
    try_passcode(other_page, PASSCODE)                  # another browser: in at once
    wait_visible(other_page, other_page.get_by_text("Teacher controls on."))
    took = time.monotonic() - start
    assert took < 16, f"the right passcode took {took:.1f} s: it was held like a wrong try"
    expect(other_page.get_by_text("Wrong passcode")).to_have_count(0)
    expect(key(other_page, "class_clear_sure")).to_be_visible(timeout=WAIT)

    try_passcode(page, PASSCODE)                        # the student's own browser, right after its wrong tries
    wait_visible(page, page.get_by_text("Teacher controls on."))
    expect(key(page, "class_clear_sure")).to_be_visible(timeout=WAIT)


ANSWER = re.compile(r"Added your 7 to the class set|Too many drawings|too many drawings at once|class set is full")


def add_from_a_new_browser(browser, url, address):
    """Draw a 7 and add it, in a new browser context (a new cookie) coming from `address`;
    returns the sentence the Draw page answers with."""
    ctx = browser.new_context(viewport=VIEWPORT, extra_http_headers={"X-Forwarded-For": address})
    ctx.set_default_timeout(60_000)
    try:
        page = ctx.new_page()
        open_page(page, f"{url}/draw")
        draw_with_mouse(page, STROKES["7"])
        guess(page)
        key(page, "class_meant").locator("input").click()
        page.get_by_role("option", name="7", exact=True).click()
        wait_for_app(page)
        add = button(page, "class_add")
        expect(add).to_be_enabled(timeout=WAIT)
        add.click()
        answer = page.get_by_text(ANSWER)
        wait_visible(page, answer)
        return answer.inner_text()
    finally:
        ctx.close()


def flood(browser, url, addresses, until):
    """New browsers, one after another, until one is refused with `until` (at most 6): their answers."""
    said = []
    for address in addresses[:6]:
        said.append(add_from_a_new_browser(browser, url, address))
        if until in said[-1]:
            break
    return said


def test_a_flood_from_new_browsers_is_stopped_per_address_and_for_the_server(browser, limits_app):
    from classroom.store import Store
    url, db = limits_app
    # One address: each new browser starts a new per-browser count, the address's count goes on.
    said = flood(browser, url, ["10.1.0.1"] * 6, "from your network")
    assert said[-1] == (f"Too many drawings from your network just now (at most {PER_ADDRESS} a minute from one "
                        f"address, shared by everyone on it): wait a minute and add it again.")
    assert sum(s.startswith("Added your 7") for s in said) >= PER_ADDRESS
    # New browsers on new addresses: the server's count still holds them.
    more = flood(browser, url, [f"10.2.0.{i}" for i in range(1, 7)], "at once")
    assert more[-1] == (f"The class set is taking in too many drawings at once (at most {SERVER} a minute for the "
                        f"whole server): wait a minute and add it again.")
    added = sum(s.startswith("Added your 7") for s in said + more)
    s = Store(db)
    assert s.count() == added                             # the refused ones were not stored
    s.close()
