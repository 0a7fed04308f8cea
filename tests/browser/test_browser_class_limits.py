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


def ready_to_add(browser, url, address):
    """A new browser context (a new cookie) coming from `address`, on Draw with a 7 drawn and
    "7" chosen, one click away from adding it: (context, page)."""
    ctx = browser.new_context(viewport=VIEWPORT, extra_http_headers={"X-Forwarded-For": address})
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    open_page(page, f"{url}/draw")
    draw_with_mouse(page, STROKES["7"])
    guess(page)
    key(page, "class_meant").locator("input").click()
    page.get_by_role("option", name="7", exact=True).click()
    wait_for_app(page)
    expect(button(page, "class_add")).to_be_enabled(timeout=WAIT)
    return ctx, page


def flood(browser, url, addresses):
    """A flood: new browsers from `addresses` made ready one after another (however long that
    takes on a busy machine), then all press Add within a second or two, well inside one of
    the limits' minutes. Returns the sentence each was answered with, in the order of the clicks."""
    ready = [ready_to_add(browser, url, address) for address in addresses]
    try:
        for _, page in ready:
            button(page, "class_add").click()
        said = []
        for _, page in ready:
            answer = page.get_by_text(ANSWER)
            wait_visible(page, answer)
            said.append(answer.inner_text())
        return said
    finally:
        for ctx, _ in ready:
            ctx.close()


ADDRESS_FULL = (f"Too many drawings from your network just now (at most {PER_ADDRESS} a minute from one address, "
                f"shared by everyone on it): wait a minute and add it again.")
SERVER_FULL = (f"The class set is taking in too many drawings at once (at most {SERVER} a minute for the whole "
               f"server): wait a minute and add it again.")


def test_a_flood_from_new_browsers_is_stopped_per_address_and_for_the_server(browser, limits_app):
    from classroom.store import Store
    url, db = limits_app
    # One address (new to the server, so its minute starts with this flood): each new browser
    # starts a new per-browser count; the address's count goes on.
    said = flood(browser, url, ["10.1.0.1"] * (PER_ADDRESS + 1))
    assert sorted(said)[-1] == ADDRESS_FULL and sum(s == ADDRESS_FULL for s in said) == 1
    assert sum(s.startswith("Added your 7") for s in said) == PER_ADDRESS
    # New browsers on new addresses: the server's count holds them. (The server's minute began
    # with the flood above, or began again since: either way at most SERVER + (SERVER - PER_ADDRESS)
    # of these get in, so two more than SERVER means at least one is refused.)
    more = flood(browser, url, [f"10.2.0.{i}" for i in range(1, SERVER + 3)])
    assert SERVER_FULL in more and set(more) <= {SERVER_FULL} | {s for s in more if s.startswith("Added your 7")}
    added = sum(s.startswith("Added your 7") for s in said + more)
    s = Store(db)
    assert s.count() == added                             # the refused ones were not stored
    s.close()


def this_machines_network_address():
    """This machine's own IPv4 address on its network (not loopback), or None."""
    import socket
    for target in ("192.0.2.1", "10.255.255.255", "8.8.8.8"):       # (a UDP connect sends nothing)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect((target, 9))
            except OSError:
                continue
            found = s.getsockname()[0]
            if not found.startswith("127."):
                return found
    return None


def test_a_student_cannot_name_another_address_without_a_trusted_proxy(browser, start_app, tmp_path_factory):
    """Browsers that reach the server over the network (not from a trusted proxy) and send
    X-Forwarded-For with a new made-up address each time are still counted as the one address
    they connect from."""
    own = this_machines_network_address()
    if own is None:
        pytest.skip("this machine has no network address besides loopback to connect from")
    db = tmp_path_factory.mktemp("class-xff") / "class.sqlite3"
    url = start_app("server-class-xff.log", address=own, DIGITS_DB=str(db),
                    DIGITS_CLASS_PER_ADDRESS_MINUTE=str(PER_ADDRESS))
    said = flood(browser, url, [f"10.3.0.{i}" for i in range(1, PER_ADDRESS + 2)])   # each names a new address
    assert sum(s == ADDRESS_FULL for s in said) == 1
    assert sum(s.startswith("Added your 7") for s in said) == PER_ADDRESS
