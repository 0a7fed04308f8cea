"""The README stays a first screen (what it is, two commands, the lesson order, links to docs/), and
every relative link of the README and docs/ leads to a file that exists."""
import re
from pathlib import Path

from ui.pages import PAGES

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
README_LINES = 58        # besides the tables' rows (a page each, a measured figure each): one screen of prose and
                         # commands, with what the issues ask the README to show (figures, school layout, languages)


def _relative_links(md):
    """(target, line number) of each relative link in a Markdown file, outside code blocks."""
    fence = False
    for n, line in enumerate(md.read_text().splitlines(), 1):
        if line.startswith("```"):
            fence = not fence
        if fence:
            continue
        for target in LINK.findall(line):
            if not re.match(r"[a-z]+:", target) and not target.startswith("#"):
                yield target.split("#")[0], n


def test_readme_fits_on_one_screen():
    lines = (ROOT / "README.md").read_text().splitlines()
    prose = [line for line in lines if not line.startswith("| ")]
    assert len(prose) <= README_LINES, f"README.md has {len(prose)} lines besides its tables: move details into docs/"


def test_readme_names_every_page_and_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    missing = [p.title for p in PAGES if f"| {p.title} |" not in readme]
    assert not missing, f"pages missing from the README's lesson order: {missing}"
    assert "python -m pip install -r requirements.txt" in readme and "streamlit run dashboard.py" in readme


def test_every_relative_link_points_to_an_existing_file():
    broken = [f"{md.relative_to(ROOT)}:{n}: {target}" for md in [ROOT / "README.md", *DOCS]
              for target, n in _relative_links(md) if not (md.parent / target).exists()]
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_every_docs_page_is_reached_from_the_readme():
    reached, todo = set(), [ROOT / "README.md"]
    while todo:
        md = todo.pop()
        for target, _ in _relative_links(md):
            dest = (md.parent / target).resolve()
            if dest.suffix == ".md" and dest.exists() and dest not in reached:
                reached.add(dest)
                todo.append(dest)
    assert not [d.name for d in DOCS if d.resolve() not in reached]
