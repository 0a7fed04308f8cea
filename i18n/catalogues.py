"""The translators' tools behind scripts/i18n.py and tests/test_i18n_catalogue.py (Babel's Python API).

    extract()        the messages the code marks (`_`, `N_`, `ngettext`), as a Babel Catalog (the template)
    update(code)     a language's .po brought in line with the code, written in the normalised form
    problems(code)   what keeps a language's .po from being complete and correct (empty = ready to ship)

The normalised form of a .po (what update() writes, so that two people's merges stay quiet): the header, then
the entries grouped by the first file that uses them (files in path order), sorted by msgid inside a file,
each with its files as `#: path` (no line numbers: moving code changes nothing), lines not wrapped (one line per
message). Entries no longer in the code are dropped (git keeps them); a changed English message keeps its old
translation marked fuzzy, with the old English as `#| msgid`, for the translator to check: a fuzzy entry is
not shown (the English is) and counts as not done.
"""
import ast
import io
import re
from collections import Counter
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from i18n import DOMAIN, LANGUAGES, LOCALES, SOURCE

ROOT = LOCALES.parent.parent
CONFIG = LOCALES.parent / "babel.cfg"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "NC_": ((1, "c"), 2)}
PROJECT = "Digits from Scratch"

# A placeholder: str.format's {name}, {name:.1%}, {0!r}; %-formatting's %d, %.2f, %(name)s (no space flag:
# "96% of" is no placeholder).
BRACES = re.compile(r"\{\{|\}\}|\{[^{}]*\}")
PERCENT = re.compile(r"%%|%(?:\([^)]*\))?[-#0+]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def po_path(code):
    return LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def shipped():
    """The language codes with a catalogue: every language of i18n.LANGUAGES but the source."""
    return [c for c in LANGUAGES if c != SOURCE]


def extract():
    """The template: every message marked in the code, with the files that use it."""
    with CONFIG.open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    template = Catalog(project=PROJECT, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read(code):
    """The catalogue of language `code` as Babel reads it."""
    with po_path(code).open("rb") as f:
        return read_po(f, locale=code, domain=DOMAIN)


def normalised(catalog):
    """`catalog` as the text of a .po in the normalised form (see the module's docstring)."""
    out = Catalog(locale=catalog.locale, domain=DOMAIN, project=PROJECT, fuzzy=False,
                  header_comment=catalog.header_comment)
    out.mime_headers = catalog.mime_headers
    messages = [m for m in catalog if m.id]

    def where(m):
        files = sorted({f for f, _line in m.locations})
        return (files[0] if files else "~"), (m.id if isinstance(m.id, str) else m.id[0])

    for m in sorted(messages, key=where):
        files = sorted({f for f, _line in m.locations})
        notes = [c for c in m.user_comments if not c.startswith(("====", "|"))]   # hand-kept sections' markers
        # Babel reads a fuzzy entry's old English (#| msgid "...") as a comment: back to what it is.
        previous = m.previous_id or [ast.literal_eval(c.split(" ", 2)[2]) for c in m.user_comments
                                     if c.startswith(("| msgid ", "| msgid_plural "))]
        out.add(m.id, m.string, [(f, None) for f in files], flags=m.flags, auto_comments=m.auto_comments,
                user_comments=notes, previous_id=previous if m.fuzzy else (), context=m.context)
        # Babel guesses python-format from any "%" ("96% of"): problems() checks placeholders itself.
        out.get(m.id, m.context).flags -= {"python-format", "python-brace-format"}
    buf = io.BytesIO()
    write_po(buf, out, width=0, include_lineno=False, include_previous=True, ignore_obsolete=True)
    text = buf.getvalue().decode()
    # Babel's header lines that change on every run say nothing a translator needs.
    text = re.sub(r'^"(POT-Creation-Date|PO-Revision-Date|Generated-By): .*\\n"\n', "", text, flags=re.M)
    text = re.sub(r'^".*(EMAIL@ADDRESS|FULL NAME|LL@li\.org).*\\n"\n', "", text, flags=re.M)   # Babel's blanks
    return text


def update(code, template=None):
    """Bring language `code`'s .po in line with the code (new messages empty, gone ones dropped, changed ones
    fuzzy) and write it in the normalised form. Returns (added, dropped, fuzzy): lists of msgids."""
    template = template or extract()
    doubt = differing_duplicates(po_path(code))
    if doubt:
        raise ValueError(f"{code}: messages written twice with different translations (choose one, delete the "
                         "other, then update again):\n" + "\n".join(f"  {msgid!r}: {texts}"
                                                                      for (_ctx, msgid), texts in doubt.items()))
    catalog = read(code)
    before = {m.id for m in catalog if m.id}
    catalog.update(template, update_header_comment=False, update_creation_date=False)
    after = {m.id for m in catalog if m.id}
    dropped = [m.id for m in catalog.obsolete.values()]
    catalog.obsolete.clear()
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy and m.id not in before]
    write_text(po_path(code), normalised(catalog))
    return sorted(after - before, key=str), dropped, fuzzy


def init(code, name, template=None):
    """Start language `code`'s catalogue: every message of the code, none translated yet."""
    from babel import Locale
    template = template or extract()
    locale = Locale.parse(code)
    catalog = Catalog(locale=code, domain=DOMAIN, project=PROJECT, fuzzy=False,
                      header_comment=f"# {locale.english_name} translations for {PROJECT}.\n"
                                     "# A translator needs only this file: msgid is the English, msgstr the "
                                     f"{locale.english_name}.")
    for m in template:
        if m.id:
            catalog.add(m.id, ("",) * catalog.num_plurals if isinstance(m.id, tuple) else "", m.locations,
                        auto_comments=m.auto_comments, context=m.context)
    path = po_path(code)
    if path.exists():
        raise FileExistsError(f"{path.relative_to(ROOT)} exists already: use update")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, normalised(catalog))
    return path


def write_text(path, text):
    """Write atomically: a reader never sees half a catalogue."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def placeholders(text):
    """The placeholders of a message, counted: {name}, {x:.1%}, %d, %(name)s ({{, }} and %% are no
    placeholders)."""
    found = BRACES.findall(text) + PERCENT.findall(text)
    return Counter(p for p in found if p not in ("{{", "}}", "%%"))


def _name(placeholder):
    """The name a placeholder formats: "n" of {n:,} or %(n)d; "" for a positional one ({}, %d)."""
    m = re.match(r"\{([^:!}]*)|%\(([^)]*)\)", placeholder)
    return (m.group(1) or m.group(2) or "") if m else ""


def raw_entries(path):
    """Every (msgctxt, msgid, msgstr) of a .po as written, obsolete (#~) ones too, in order: to find duplicates,
    which a reader merges silently (a plural's forms are joined by " | ")."""
    entries, current, field = [], None, None
    unquote = lambda s: ast.literal_eval(s.strip())        # noqa: E731 -- a .po string is a C string

    def close():
        if current and current["id"]:
            entries.append((current["ctx"], current["id"], " | ".join(current["str"])))

    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.removeprefix("#~ ")
        word, _sep, rest = line.partition(" ")
        if word == "msgctxt" or (word == "msgid" and (current is None or field not in ("ctx",))):
            close()
            current, field = {"ctx": None, "id": "", "str": []}, None
        if word == "msgctxt":
            current["ctx"], field = unquote(rest), "ctx"
        elif word == "msgid":
            current["id"], field = unquote(rest), "id"
        elif word == "msgid_plural":
            field = "plural"
        elif word.startswith("msgstr"):
            current["str"].append(unquote(rest))
            field = "str"
        elif line.startswith('"') and current is not None:
            if field == "ctx":
                current["ctx"] += unquote(line)
            elif field == "id":
                current["id"] += unquote(line)
            elif field == "str":
                current["str"][-1] += unquote(line)
    close()
    return entries


def raw_msgids(path):
    """Every (msgctxt, msgid) of a .po as written, in order."""
    return [(ctx, msgid) for ctx, msgid, _text in raw_entries(path)]


def differing_duplicates(path):
    """{(msgctxt, msgid): [its translations]} for the messages written more than once with different
    translations: a reader keeps one of them, so a person should choose."""
    seen = {}
    for ctx, msgid, text in raw_entries(path):
        seen.setdefault((ctx, msgid), []).append(text)
    return {key: texts for key, texts in seen.items() if len(set(texts)) > 1}


def problems(code, template=None):
    """What keeps `code`'s catalogue from shipping, one sentence each ([] when it is complete)."""
    template = template or extract()
    path = po_path(code)
    if not path.is_file():
        return [f"{code}: no catalogue {path.relative_to(ROOT)}"]
    out = []
    catalog = read(code)
    lang = catalog.mime_headers and dict(catalog.mime_headers).get("Language")
    if lang != code:
        out.append(f"{code}: the header says Language: {lang}")
    for (ctx, msgid), n in Counter(raw_msgids(path)).items():
        if n > 1:
            out.append(f"{code}: {msgid!r} is in the file {n} times")
    for m in catalog.obsolete.values():
        out.append(f"{code}: obsolete entry (#~) {m.id!r}: delete it")
    wanted = {(m.context, m.id): m for m in template if m.id}
    have = {(m.context, m.id): m for m in catalog if m.id}
    for context, msgid in have.keys() - wanted.keys():
        out.append(f"{code}: {msgid!r} is no longer in the code" + (f" (context {context!r})" if context else ""))
    for (context, msgid), src in wanted.items():
        m = have.get((context, msgid))
        if m is None:
            out.append(f"{code}: missing {msgid!r} ({src.locations[0][0]})")
            continue
        strings = m.string if isinstance(m.string, (tuple, list)) else (m.string,)
        if m.fuzzy:
            out.append(f"{code}: fuzzy (to check) {msgid!r}")
        if not all(s for s in strings):
            out.append(f"{code}: not translated {msgid!r} ({src.locations[0][0]})")
            continue
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        for i, s in enumerate(strings):
            source = ids[min(i, len(ids) - 1)]
            mine, theirs = placeholders(s), placeholders(source)
            unknown = {_name(p) for p in mine} - {_name(p) for p in placeholders("".join(ids))}
            if unknown:
                out.append(f"{code}: {msgid!r}: placeholder {sorted(unknown)} is not in the English (the page "
                           "would crash)")
            elif mine != theirs and not (len(ids) > 1 and i < len(strings) - 1 and set(mine) <= set(theirs)):
                # a plural's singular form may leave out the count ("un passo"), nothing else may
                out.append(f"{code}: {msgid!r}: placeholders {dict(theirs)} in the English, {dict(mine)} in the "
                           "translation")
    return out          # (not Babel's catalog.check(): it reads "96% of" as a %o placeholder)


def call_problems(paths=None):
    """Calls of `_`/`ngettext` whose message can never be found in a catalogue: an f-string, a string built by
    + or .format() inside the call (format after: `_("{n} images").format(n=...)`)."""
    with CONFIG.open() as f:
        method_map, _options = parse_mapping_cfg(f)
    from babel.messages.extract import pathmatch
    files = paths or sorted(p for p in ROOT.rglob("*.py")
                            if any(pathmatch(pattern, p.relative_to(ROOT).as_posix()) for pattern, _m in method_map)
                            and not any(part.startswith((".", "_")) and part != "__init__.py"
                                        for part in p.relative_to(ROOT).parts))
    out = []
    for path in files:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("_", "ngettext")):
                continue
            for arg in node.args[:2 if node.func.id == "ngettext" else 1]:
                bad = isinstance(arg, (ast.JoinedStr, ast.BinOp)) or (
                    isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format")
                if bad:
                    where = Path(path).relative_to(ROOT) if Path(path).is_relative_to(ROOT) else path
                    out.append(f"{where}:{node.lineno}: {node.func.id}() of a string built at run time "
                               "(an f-string, + or .format inside): no catalogue has it")
    return out
