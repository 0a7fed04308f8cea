"""The catalogues are complete (issue 24): every message the code marks (Babel's extraction, i18n/babel.cfg,
keywords _ N_ ngettext) is translated in every shipped language, not fuzzy, once, with the same placeholders;
no entry the code no longer has. And the translator's tools (i18n/catalogues.py behind scripts/i18n.py) find
each of these faults and keep a catalogue's normalised form stable.

What is missing, in one command:  python scripts/i18n.py check
"""
import textwrap

import pytest

import i18n
from i18n import catalogues


@pytest.fixture(scope="module")
def template():
    return catalogues.extract()


def test_the_code_marks_messages_for_translation(template):
    ids = {m.id for m in template if m.id}
    assert "Digits from Scratch" in ids and len(ids) > 40           # the extraction reads the app's files


def test_every_language_offered_has_its_catalogue_and_every_catalogue_is_offered():
    on_disk = {p.parent.parent.name for p in i18n.LOCALES.glob(f"*/LC_MESSAGES/{i18n.DOMAIN}.po")}
    assert on_disk == set(catalogues.shipped())


@pytest.mark.parametrize("code", catalogues.shipped())
def test_every_message_is_translated_with_the_same_placeholders(code, template):
    found = catalogues.problems(code, template)
    assert not found, f"{len(found)} problems in the {code} catalogue (python scripts/i18n.py check {code}):\n" \
        + "\n".join(found[:60]) + ("\n..." if len(found) > 60 else "")


def test_no_message_is_built_at_run_time_inside_the_translation_call():
    found = catalogues.call_problems()
    assert not found, "\n".join(found)


# ---------------------------------------------------------------- the checks themselves
PO = """\
# Test translations.
msgid ""
msgstr ""
"Language: xx\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"
"Content-Type: text/plain; charset=utf-8\\n"

msgid "Good"
msgstr "Buono"

msgid "{n} test images"
msgstr "{n} immagini di test"

msgid "Accuracy {acc:.1%}"
msgstr "Accuratezza {acc}"

msgid "Loss %.2f"
msgstr "Perdita"

msgid "Hello {name}"
msgstr "Ciao {nome}"

msgid "Empty"
msgstr ""

#, fuzzy
msgid "Unsure"
msgstr "Incerto"

msgid "Twice"
msgstr "Due volte"

msgid "Twice"
msgstr "Due volte!"

msgid "Gone from the code"
msgstr "Sparito"

msgid "one step"
msgid_plural "{n} steps"
msgstr[0] "un passo"
msgstr[1] "{n} passi"

msgid "96% of the images"
msgstr "il 96% delle immagini"

#~ msgid "Old"
#~ msgstr "Vecchio"
"""
CODE = """\
from i18n import _, N_, ngettext
_("Good"); _("{n} test images"); _("Accuracy {acc:.1%}"); _("Loss %.2f"); _("Hello {name}"); _("Empty")
_("Unsure"); _("Twice"); ngettext("one step", "{n} steps", 2); _("96% of the images"); N_("Missing")
"""


@pytest.fixture
def playground(tmp_path, monkeypatch):
    """A project of its own: one source file and the catalogue of a language "xx"."""
    (tmp_path / "app.py").write_text(CODE)
    (tmp_path / "i18n").mkdir()
    (tmp_path / "i18n" / "babel.cfg").write_text("[python: **.py]\n")
    po = tmp_path / "i18n" / "locales" / "xx" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(PO)
    monkeypatch.setattr(catalogues, "ROOT", tmp_path)
    monkeypatch.setattr(catalogues, "CONFIG", tmp_path / "i18n" / "babel.cfg")
    monkeypatch.setattr(catalogues, "LOCALES", tmp_path / "i18n" / "locales")
    return po


def test_the_check_finds_each_fault(playground):
    found = "\n".join(catalogues.problems("xx"))
    assert "'Good'" not in found and "'{n} test images'" not in found
    assert "'Accuracy {acc:.1%}': placeholders {'{acc:.1%}': 1} in the English, {'{acc}': 1}" in found
    assert "'Loss %.2f': placeholders {'%.2f': 1} in the English, {}" in found
    assert "'Hello {name}': placeholder ['nome'] is not in the English (the page would crash)" in found
    assert "not translated 'Empty'" in found
    assert "fuzzy (to check) 'Unsure'" in found
    assert "'Twice' is in the file 2 times" in found
    assert "'Gone from the code' is no longer in the code" in found
    assert "obsolete entry (#~) 'Old'" in found
    assert "missing 'Missing'" in found
    assert "one step" not in found             # the singular form may leave out the count
    assert "96%" not in found                  # "96% of" is no placeholder
    assert len(found.splitlines()) == 9, found


def test_update_writes_the_normalised_form_and_keeps_the_work(playground):
    playground.write_text(PO.replace('msgid "Twice"\nmsgstr "Due volte!"\n\n', "")
                          .replace("Hello {name}", "Hello, {name}")         # the English changed since
                          .replace('"Language: xx\\n"',
                                   '"Language: xx\\n"\n"PO-Revision-Date: 2026-01-01 00:00+0000\\n"'))
    added, dropped, fuzzy = catalogues.update("xx")
    assert (added, sorted(dropped), fuzzy) == (["Hello {name}", "Missing"], ["Gone from the code", "Old"],
                                               ["Hello {name}"])
    text = playground.read_text()
    assert "Gone from the code" not in text and "#~" not in text and "Revision-Date" not in text
    assert '#: app.py\nmsgid "Good"\nmsgstr "Buono"' in text                  # translations kept, no line numbers
    assert 'msgid "Missing"\nmsgstr ""' in text
    assert '#, fuzzy\n#| msgid "Hello, {name}"\nmsgid "Hello {name}"\nmsgstr "Ciao {nome}"' in text
    ids = [line for line in text.splitlines() if line.startswith("msgid ") and line != 'msgid ""']
    assert ids == sorted(ids), "entries sorted inside a file"
    catalogues.update("xx")
    assert playground.read_text() == text, "a second update changes nothing"


def test_update_stops_at_a_message_translated_two_ways(playground):
    """A reader keeps one of two translations of the same message: update asks a person to choose first."""
    with pytest.raises(ValueError, match="'Twice': \\['Due volte', 'Due volte!'\\]"):
        catalogues.update("xx")
    assert playground.read_text() == PO                                  # nothing written


def test_init_starts_a_language_with_every_message_to_translate(playground):
    path = catalogues.init("es", None)
    text = path.read_text()
    assert '"Language: es\\n"' in text and 'msgid "Missing"\nmsgstr ""' in text
    assert 'msgid_plural "{n} steps"\nmsgstr[0] ""\nmsgstr[1] ""' in text
    assert len(catalogues.problems("es")) == 11                       # every message, none translated yet
    with pytest.raises(FileExistsError):
        catalogues.init("es", None)


def test_a_translation_call_of_a_built_string_is_found(tmp_path):
    src = tmp_path / "page.py"
    src.write_text(textwrap.dedent("""\
        _(f"{n} images")
        _("a" + b)
        _("{n} images".format(n=3))
        _("{n} images").format(n=3)
        ngettext("one", f"{n} more", n)
        _(HELP)
        """))
    found = catalogues.call_problems([src])
    assert [f.split(":")[-3] for f in found] == ["1", "2", "3", "5"], found
