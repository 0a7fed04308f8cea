"""Every visible word comes through the translation function (issue 24).

Each page is rendered under AppTest in the pseudo-language "qps" (`?lang=qps`): every message that went through
`_()` / `ngettext` shows ⟦like this⟧, every text marked as data with `i18n.as_is()` ⟪like this⟫. Any word left
outside those marks is a text a translator could never reach. The rule and what it exempts (code, cell values,
a widget's value, numbers) are in tests/i18n_check.py; no list of exempted strings.

A message's placeholders stay outside its marks ("⟦Data: ⟧{source}"), so a value filled into a translated sentence
is checked on its own: an English dataset name or model description inside an Italian sentence fails too.

One page:  python -m pytest -q tests/test_i18n_pseudo.py -k "train and not language"
           python tests/i18n_check.py train           (prints the page's untranslated texts, without pytest)
"""
import pytest
from streamlit.testing.v1 import AppTest

import i18n
from i18n_check import leftover, open_page_in, report, untranslated
from ui import pages

pytestmark = pytest.mark.usefixtures("sample_only")     # tests/conftest.py: the built-in sample, as a new user


@pytest.mark.parametrize("page", pages.PAGES, ids=[p.name for p in pages.PAGES])
def test_every_visible_text_of_the_page_comes_through_translation(page):
    at = open_page_in(page.name)
    bad = untranslated(at)
    assert not bad, f"page {page.name}: " + report(bad)


def test_the_menu_and_the_browser_tab_come_through_translation(monkeypatch):
    """The sidebar's menu (st.navigation: section names and page titles) is not in AppTest's tree."""
    monkeypatch.setattr(pages.st, "Page", lambda path, **kw: {"path": path, **kw})     # st.Page needs a run
    i18n.use(i18n.PSEUDO)
    try:
        menu = pages.menu()
        shown = [(f"section {s!r}", s) for s in menu]
        shown += [(f"menu title of {p['path']}", p["title"]) for g in menu.values() for p in g]
        shown += [("browser tab", pages.app_name())]
    finally:
        i18n.use(i18n.SOURCE)
    bad = [(where, text, leftover(text)) for where, text in shown if leftover(text)]
    assert not bad, report(bad)


# ---------------------------------------------------------------- the rule itself: it finds what it must
def test_the_rule_accepts_translated_data_and_numbers():
    ok = ["⟦Test accuracy⟧", "96.35%", "🏠 ⟦Home⟧", "**⟦Data⟧**", "⟦⟦5⟧ of ⟦10 steps⟧⟧",
          "784-100-10 · x, W, b", "⟪run 3: MLP 784-100-10⟫", "⟦See⟧ [⟦the docs⟧](https://example.org/a_b)",
          "⟦Loss⟧ $\\sum_i y_i \\log p_i$", "⟦Call⟧ `net.forward(x)`",
          '<div role="status" aria-label="⟦guess⟧">⟦The network reads⟧ <b>3</b></div>',
          ":material/school: ⟦Lesson⟧", ":red[⟦wrong⟧]", "&nbsp;⟦a&nbsp;b⟧"]
    for text in ok:
        assert leftover(text, "markdown") == "", text
    assert leftover("%.2f") == "" and leftover("%d", "format") == "" and leftover("%.1f%%", "format") == ""


def test_the_rule_finds_words_outside_the_marks():
    bad = {"Test accuracy": "Test accuracy", "⟦Evaluating⟧ on test images": "on test images",
           "🏠 Home": "Home", "**Data**": "Data", "⟦cut off": "cut off", "ReLU": "ReLU", "à la": "la",
           "⟦x⟧ ⟪y⟫ and": "and", '<img alt="a digit" src="x.png">': "digit",
           "%d epochs": "epochs", "Precisión": "Precisión", "精度": "精度"}
    for text, words in bad.items():
        kind = "format" if text.startswith("%") else "markdown"
        assert leftover(text, kind) == words, text


def test_a_value_filled_into_a_translated_sentence_is_checked_on_its_own():
    """The pseudo-language leaves a message's placeholders outside its marks, so an English value filled in later
    (a dataset's source, a model's description) shows, and a translated or as_is one does not."""
    i18n.use(i18n.PSEUDO)
    try:
        template = i18n._("Data: **{source}**, {n} images, loss %.2f")
        assert template == "⟦Data: **⟧{source}⟦**, ⟧{n}⟦ images, loss ⟧%.2f"
        assert leftover(template.format(source="built-in sample", n="12,000"), "markdown") == "built in sample"
        assert leftover(template.format(source=i18n._("built-in sample"), n="12,000"), "markdown") == ""
        assert leftover(template.format(source=i18n.as_is("/data/mnist"), n="1") % 0.5, "markdown") == ""
        assert i18n.ngettext("{n} run", "{n} runs", 2) == "{n}⟦ runs⟧"
        assert i18n._("No placeholder, 96% of {{braces}}") == "⟦No placeholder, 96% of {{braces}}⟧"
    finally:
        i18n.use(i18n.SOURCE)


def _every_element():
    """A page with one untranslated text in each kind of element the checker reads."""
    import streamlit as st
    import pandas as pd
    import altair as alt
    import numpy as np
    import i18n
    from i18n import _
    i18n.use(st.query_params.get("lang"))
    T = (lambda s: s) if st.query_params.get("wrap") != "yes" else _
    st.title(T("A title"))
    st.header(T("A header"), help=T("header help"))
    st.markdown(T("Some markdown"))
    st.caption(T("A caption"))
    st.info(T("An info box"))
    st.warning(T("A warning"))
    st.error(T("An error"))
    st.success(T("A success"))
    st.metric(T("Metric label"), "12", help=T("metric help"))
    st.button(T("Button label"), help=T("button help"))
    st.slider(T("Slider label"), 0, 10, 3, format="%d " + T("epochs"))
    st.selectbox(T("Select label"), [T("first option"), T("second option")])
    st.radio(T("Radio label"), [T("one"), T("two")], captions=[T("radio caption"), T("other caption")])
    st.text_input(T("Input label"), placeholder=T("a placeholder"))
    st.toggle(T("Toggle label"), help=T("toggle help"))
    st.link_button(T("A link"), "https://example.org")
    with st.expander(T("Expander label")):
        st.write(T("inside"))
    tab, _other = st.tabs([T("Tab label"), T("Other tab")])
    tab.write(T("in a tab"))
    st.image(np.zeros((4, 4)), caption=T("image caption"), alt=T("image alt"))
    st.dataframe(pd.DataFrame({T("Column header"): [1, 2]}))
    chart = alt.Chart(pd.DataFrame({"k": [T("legend entry")], "v": [1]}), title=T("Chart title")).mark_bar().encode(
        x=alt.X("v:Q", title=T("x axis")), y=alt.Y("k:N", title=T("y axis")), color=alt.Color("k:N", title=None))
    st.altair_chart(chart)
    st.code("print('code stays as it is')")
    st.text_input(T("Typed"), value="a value the user typed", key="typed")


EXPECTED = ["A title", "A header", "header help", "Some markdown", "A caption", "An info box", "A warning",
            "An error", "A success", "Metric label", "metric help", "Button label", "button help", "Slider label",
            "epochs", "Select label", "first option", "second option", "Radio label", "one", "radio caption",
            "Input label", "a placeholder", "Toggle label", "toggle help", "A link", "Expander label", "inside",
            "Tab label", "in a tab", "image caption", "image alt", "Column header", "Chart title", "x axis",
            "y axis", "legend entry"]


def test_the_checker_reads_every_kind_of_element():
    """Each kind of element's text is found when it is not translated, and nothing is when it is."""
    def run(wrap):
        at = AppTest.from_function(_every_element, default_timeout=60)
        at.query_params["lang"] = i18n.PSEUDO
        at.query_params["wrap"] = wrap
        at.run()
        assert not at.exception, at.exception
        return at

    found = " | ".join(text for _w, text, _left in untranslated(run("no")))
    missing = [t for t in EXPECTED if t not in found]
    assert not missing, f"the checker missed: {missing}"
    assert "code stays" not in found and "a value the user typed" not in found
    assert untranslated(run("yes")) == []
