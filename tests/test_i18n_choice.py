"""Which language a session sees (ui/translation.py): a link's lang=, the sidebar's picker, the browser's
language on a first visit, English otherwise; the choice kept in the address (so a reload keeps it); odd
values harmless; lesson links and handout links carry the language; numbers written as the language does.
The browser's side (<html lang>, an Italian browser, a real reload) is tests/browser/test_browser_i18n.py."""
import types

import pytest
from streamlit.testing.v1 import AppTest

import i18n
from apptest_utils import APP
from ui import chart_cache, formats, handouts, lesson, translation

pytestmark = pytest.mark.usefixtures("sample_only")


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.use(i18n.SOURCE)


def opened(query=None, browser=None, monkeypatch=None):
    """Home opened with these address parameters, the browser's language `browser` (navigator.language)."""
    if monkeypatch is not None:
        fake = types.SimpleNamespace(locale=browser, headers={}, cookies={}, url=None)
        monkeypatch.setattr(translation.st, "context", fake)
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def language(at):
    """The language Home is shown in, read from its title."""
    title = at.title[0].value
    return {"🔢 Digits from Scratch": "en", "🔢 Cifre da zero": "it"}.get(title, title)


@pytest.mark.parametrize("text, code", [("it", "it"), ("it-IT", "it"), ("IT", "it"), ("it_CH", "it"), ("en-GB", "en"),
                                        ("qps", "qps"), ("xx", None), ("../../etc", None), ("i" * 10_000, None),
                                        ("", None), (None, None), ("e", None), ("it;q=0.9", None)])
def test_a_language_code_is_read_from_what_a_link_or_a_browser_says(text, code):
    assert translation.parse(text) == code


def test_english_without_a_choice():
    at = opened()
    assert language(at) == "en" and "lang" not in at.query_params
    assert at.selectbox(key=translation.PICKER).value == "en"


def test_a_link_opens_in_its_language_and_keeps_it_in_the_address():
    at = opened({"lang": "it"})
    assert language(at) == "it" and at.query_params["lang"] == "it"
    assert at.selectbox(key=translation.PICKER).value == "it"
    assert at.selectbox(key=translation.PICKER).label == "🌐 Lingua"
    at.switch_page("app_pages/5_evaluate.py").run()           # another page: the address still says it
    assert at.query_params["lang"] == "it"


def test_the_browsers_language_on_a_first_visit(monkeypatch):
    at = opened(browser="it-IT", monkeypatch=monkeypatch)
    assert language(at) == "it"
    assert "lang" not in at.query_params                      # the browser's own: nothing to keep in the address
    at = opened(browser="de-DE", monkeypatch=monkeypatch)     # not offered: English
    assert language(at) == "en"


def test_a_link_wins_over_the_browser(monkeypatch):
    assert language(opened({"lang": "en"}, browser="it-IT", monkeypatch=monkeypatch)) == "en"


def test_the_picker_switches_and_the_choice_survives_a_reload():
    at = opened()
    at.selectbox(key=translation.PICKER).set_value("it").run()
    assert language(at) == "it" and at.query_params["lang"] == "it"
    reloaded = opened({"lang": at.query_params["lang"]})    # a reload: a new session with the same address
    assert language(reloaded) == "it"
    at.selectbox(key=translation.PICKER).set_value("en").run()
    assert language(at) == "en" and at.query_params["lang"] == "en"


@pytest.mark.parametrize("odd", ["../../etc/passwd", "x" * 5000, "<script>", "zz", "it\x00"])
def test_odd_values_mean_english_silently_and_leave_the_address(odd):
    at = opened({"lang": odd})
    assert language(at) == "en" and not at.error and not at.warning
    assert "lang" not in at.query_params


def test_a_lesson_setting_link_is_not_confused_by_the_language():
    """lang= is the address's, not a Train setting: no "ignored setting" note, and the link keeps it."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "it"
    at.run()
    at.switch_page("app_pages/4_train.py")
    at.query_params["lang"] = "it"
    at.query_params["epochs"] = "3"
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="train_epochs").value == 3
    assert not at.warning, [w.value for w in at.warning]
    assert at.query_params["lang"] == "it" and at.query_params["epochs"] == "3"


def test_lesson_and_handout_links_carry_the_language():
    i18n.use("it")
    assert handouts.link("train", "lr=0.1", "http://host") == "http://host/train?lr=0.1&lang=it"
    assert handouts.link("home") == "/?lang=it"
    assert "lang=it" in lesson.link({"epochs": "3"})
    i18n.use(i18n.SOURCE)                   # English: the link as before languages, each browser chooses
    assert handouts.link("train", "lr=0.1") == "/train?lr=0.1"
    assert "lang" not in lesson.link({"epochs": "3"})


def test_numbers_as_the_language_writes_them():
    i18n.use("it")
    assert (i18n.num(12345.678, 1), i18n.pct(0.9635, 2), i18n.num(70000)) == ("12.345,7", "96,35%", "70.000")
    assert (formats.ordinal(2), formats.source_text("built-in sample: 12,000 of 70,000 digits")) == (
        "2º", "campione incluso: 12.000 cifre su 70.000")
    assert (formats.num(0.12345), formats.num(0.00012)) == ("0,1235", "1,20e-04")
    i18n.use(i18n.SOURCE)
    assert (i18n.num(12345.678, 1), i18n.pct(0.9635, 2), i18n.num(70000)) == ("12,345.7", "96.35%", "70,000")
    assert (formats.ordinal(2), formats.source_text("built-in sample: 12,000 of 70,000 digits")) == (
        "2nd", "built-in sample: 12,000 of 70,000 digits")
    assert (formats.num(0.12345), formats.num(0.00012)) == ("0.1235", "1.20e-04")


def _titled_chart(values):
    import altair as alt
    import pandas as pd
    return alt.Chart(pd.DataFrame({"v": values})).mark_bar().encode(x="v:Q").properties(title=i18n._("Evaluate"))


def test_a_chart_is_cached_once_per_language():
    """The chart cache is shared by every session: an Italian session must not get an English chart."""
    i18n.use("it")
    assert chart_cache.chart_spec(_titled_chart, [1, 2])["title"] == "Valuta"
    i18n.use(i18n.SOURCE)
    assert chart_cache.chart_spec(_titled_chart, [1, 2])["title"] == "Evaluate"


def test_html_lang_values():
    assert [translation.html_lang(c) for c in ("en", "it", "qps", "pt_BR")] == ["en", "it", "en", "pt-BR"]


@pytest.mark.parametrize("env, code", [({"LANG": "it_IT.UTF-8"}, "it"), ({"LANG": "C.UTF-8"}, "en"), ({}, "en"),
                                       ({"LANGUAGE": "de:it", "LANG": "de_DE.UTF-8"}, "it"),
                                       ({"LC_ALL": "C", "LANG": "it_IT.UTF-8"}, "en"),      # LC_ALL decides
                                       ({"LC_MESSAGES": "it_CH", "LANG": "en_GB"}, "it"), ({"LANG": "qps"}, "en")])
def test_the_terminals_language(env, code):
    assert i18n.from_environment(env) == code


def test_the_command_line_speaks_the_terminals_language():
    import os
    import subprocess
    import sys
    for lang, words in [("it_IT.UTF-8", "errore: --layers deve cominciare con 784"),
                        ("C.UTF-8", "error: --layers must start with 784")]:
        env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
        out = subprocess.run([sys.executable, "-m", "engine", "train", "--layers", "784,10,3"], capture_output=True,
                             text=True, env={**env, "LANG": lang}, cwd=str(APP.rsplit("/", 1)[0]), timeout=120)
        assert out.returncode == 2 and out.stderr.startswith(words), out.stderr


def test_the_same_english_in_two_places_can_have_two_translations():
    """msgctxt: the menu's section "Start" and Train's Start button are different words in Italian."""
    i18n.use("it")
    assert i18n.pgettext("menu section", "Start") == "Per cominciare" and i18n._("Start") == "Avvia"
    i18n.use(i18n.PSEUDO)
    assert i18n.pgettext("menu section", "Start") == "⟦Start⟧"


def test_a_bad_folder_is_told_in_the_students_language():
    """Home's folder box: the app's sentence and the engine's reason (engine/data.py) both in Italian."""
    at = opened({"lang": "it"})
    at.text_input(key="data_dir_input").set_value("/no/such/folder").run()
    assert at.error[0].value == ("Quella cartella non si può usare: /no/such/folder: cartella di MNIST non trovata. "
                                 "Restano in uso i dati caricati prima.")
