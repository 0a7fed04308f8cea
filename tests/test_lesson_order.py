"""The menu's lesson order (ui/pages.py): sections in order, Why convolutions? before Convolution and both
after the MLP pages where a CNN gets trained, addresses unchanged, the Home guide in the same sections.
(The browser test test_browser_pages.py::test_sidebar_links checks the menu the browser shows.)"""
import pytest
from apptest_utils import open_page

from ui import pages

pytestmark = pytest.mark.usefixtures("sample_only")     # tests/conftest.py

SECTIONS = ["Start", "Digits with an MLP", "Convolutions", "Our class", "PyTorch", "From digits to words"]
# Every page's address, as bookmarked and linked before the menu had sections: none may move.
ADDRESSES = {"0_home.py": "home", "1_dataset.py": "dataset", "2_one_hot.py": "one_hot",
             "3_how_it_learns.py": "how_it_learns", "3b_convolution.py": "convolution", "4_train.py": "train",
             "5_evaluate.py": "evaluate", "6_draw.py": "draw", "7_inside.py": "inside",
             "7b_why_convolutions.py": "why_convolutions", "8_compare.py": "compare", "8b_class.py": "class",
             "9_pytorch.py": "pytorch", "10_tokens.py": "tokens", "11_next_character.py": "next_character"}


def test_sections_come_in_lesson_order_each_in_one_piece():
    assert list(pages.sections()) == SECTIONS
    order = [p.section for p in pages.PAGES]
    # The list's order is the menu's: a section's pages sit together, so nothing is regrouped behind the reader.
    assert [s for n, s in enumerate(order) if n == 0 or s != order[n - 1]] == SECTIONS


def test_why_convolutions_then_convolution_after_the_mlp_pages():
    names = [p.name for p in pages.PAGES]
    section = {p.name: p.section for p in pages.PAGES}
    assert names.index("why_convolutions") < names.index("convolution")
    assert section["why_convolutions"] == section["convolution"] == "Convolutions"
    # A CNN is trained on the Train page, whose section (the MLP's) comes before; the Convolutions
    # pages end by sending the class there, and the Home guide says so.
    assert section["train"] == "Digits with an MLP" and names.index("train") < names.index("why_convolutions")
    assert "CNN" in pages.page("train").line and "Train page" in pages.page("convolution").line


def test_addresses_are_unchanged():
    now = {p.path.split("/")[-1]: p.name for p in pages.PAGES}
    assert {f: now.get(f) for f in ADDRESSES} == ADDRESSES            # pages added later may join, none moves
    assert pages.HOME is pages.PAGES[0]


def test_a_new_section_is_one_line_per_page(monkeypatch):
    """A unit of pages arrives as pages with a new section name, put where the lesson takes them."""
    more = pages.Page("app_pages/12_more.py", "More", "➕", "More", "...", "A new unit")
    at = next(n for n, p in enumerate(pages.PAGES) if p.section == "Our class")
    monkeypatch.setattr(pages, "PAGES", pages.PAGES[:at] + [more] + pages.PAGES[at:])
    assert list(pages.sections()) == SECTIONS[:3] + ["A new unit"] + SECTIONS[3:]
    assert pages.sections()["A new unit"] == [more]


def test_home_guide_follows_the_menus_sections():
    at = open_page()
    assert [h.value for h in at.subheader] == SECTIONS
    links = [link.proto.page for link in at.get("page_link")]
    assert links == [p.name for p in pages.PAGES[1:]]


def test_the_convolution_page_ends_by_setting_train_up_for_a_cnn():
    """The Convolutions section's last page sends the class to train a CNN: its link opens Train with kind=cnn
    (a lesson link, tests/test_app_cnn.py), which chooses the CNN there."""
    at = open_page("app_pages/3b_convolution.py")
    link = next(link.proto for link in at.get("page_link") if link.proto.page == "train")
    assert link.label == "Train a CNN" and link.query_string == "kind=cnn"
    at = open_page("app_pages/4_train.py", {"kind": "cnn"})
    assert at.radio(key="train_kind").value == "cnn"
