"""The translator's workflow, one command each (docs/translating.md):

    python scripts/i18n.py extract [FILE]     every message the code marks, as a template (.pot; default:
                                              print how many, or write FILE for a translation tool)
    python scripts/i18n.py update [CODE ...]  bring the catalogues in line with the code: new messages empty,
                                              gone ones dropped, changed ones fuzzy; the file normalised
                                              (grouped by file, sorted, no line numbers: merges stay quiet)
    python scripts/i18n.py check [CODE ...]   what is missing, fuzzy, duplicated or with placeholders that do not
                                              match, and that each catalogue compiles (exit status 1 if anything)
    python scripts/i18n.py init CODE          start a new language's catalogue (then add it to i18n.LANGUAGES)

CODE: a language code such as it, es, pt_BR; without one, every language of i18n.LANGUAGES.
"""
import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)          # `import i18n` is the app's package, not this file

from babel.messages.mofile import write_mo  # noqa: E402
from babel.messages.pofile import write_po  # noqa: E402

from i18n import LANGUAGES, catalogues  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python scripts/i18n.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract", help="the messages the code marks, as a .pot template")
    p.add_argument("file", nargs="?", type=Path)
    for name, text in [("update", "bring catalogues in line with the code"),
                       ("check", "what keeps catalogues from shipping")]:
        p = sub.add_parser(name, help=text)
        p.add_argument("codes", nargs="*")
    p = sub.add_parser("init", help="start a new language's catalogue")
    p.add_argument("code")
    args = parser.parse_args(argv)

    template = catalogues.extract()
    if args.command == "extract":
        count = sum(1 for m in template if m.id)
        if args.file:
            with args.file.open("wb") as f:
                write_po(f, template, width=0, include_lineno=False, sort_by_file=True)
            print(f"{count} messages written to {args.file}")
        else:
            print(f"{count} messages marked in the code")
        for line in catalogues.call_problems():
            print(line)
        return 0
    if args.command == "init":
        path = catalogues.init(args.code, None, template)
        print(f"wrote {path.relative_to(ROOT)} ({sum(1 for m in template if m.id)} messages to translate); "
              f'now add "{args.code}": "<the language\'s name in itself>" to LANGUAGES in i18n/__init__.py')
        return 0
    codes = args.codes or catalogues.shipped()
    unknown = [c for c in codes if c not in LANGUAGES and not catalogues.po_path(c).is_file()]
    if unknown:
        print(f"no catalogue for {', '.join(unknown)}: start one with `python scripts/i18n.py init CODE`")
        return 2
    if args.command == "update":
        for code in codes:
            try:
                added, dropped, fuzzy = catalogues.update(code, template)
            except ValueError as e:             # a message written twice, translated two ways: a person chooses
                print(e)
                return 1
            print(f"{code}: {len(added)} new to translate, {len(dropped)} dropped (no longer in the code), "
                  f"{len(fuzzy)} changed in English (fuzzy: check them)")
        return 0
    found = catalogues.call_problems()
    for code in codes:
        found += catalogues.problems(code, template)
        try:
            write_mo(io.BytesIO(), catalogues.read(code), use_fuzzy=False)
        except Exception as e:                                    # noqa: BLE001 -- say it, whatever it is
            found.append(f"{code}: does not compile: {e}")
    for line in found:
        print(line)
    done = {c: sum(1 for m in catalogues.read(c) if m.id and not m.fuzzy and all(
        m.string if isinstance(m.string, (tuple, list)) else [m.string])) for c in codes}
    total = sum(1 for m in template if m.id)
    print("; ".join(f"{c}: {n} of {total} messages translated" for c, n in done.items())
          + (f"; {len(found)} problems" if found else "; complete"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
