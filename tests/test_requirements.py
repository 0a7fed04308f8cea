"""The requirements split: requirements.txt is what the app needs to run, nothing a test alone uses;
requirements-dev.txt adds the test tools and PyTorch. (scripts/check_app_install.py, run by .ci/run in a
virtual environment with requirements.txt alone, checks that every page really runs there.)"""
import ast
import functools
import importlib.metadata as md
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
APP_CODE = ["dashboard.py", "app_pages", "ui", "engine", "classroom", "bridge", "i18n"]
LOCAL = ({"engine", "ui", "app_pages", "classroom", "bridge", "bench", "scripts", "tests", "dashboard", "i18n"}
         | {f.stem for d in ("tests", "bench") for f in (ROOT / d).rglob("*.py")})   # modules beside the tests
OPTIONAL = {"torch"}     # the PyTorch page's, in requirements-torch.txt; imported only inside bridge/


def _lines(name):
    return [ln.split("#")[0].strip() for ln in (ROOT / name).read_text().splitlines() if ln.split("#")[0].strip()]


def _dists(name):
    """The distribution names a requirements file pins (its own lines, not the files it includes)."""
    return {re.split(r"[\[=<>~! ]", ln)[0].lower().replace("_", "-") for ln in _lines(name) if not ln.startswith("-")}


def _imports(paths, under=ROOT):
    """Top-level module names imported by the Python files under `paths`, without the standard library."""
    found = {}
    files = [f for p in paths for f in ((under / p).rglob("*.py") if (under / p).is_dir() else [under / p])]
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for n in names:
                top = n.split(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.setdefault(top, str(f.relative_to(under)))
    return found


def _closure(dists):
    """The distributions `dists` install: themselves and what they require on this Python (no extras)."""
    seen, todo = set(), list(dists)
    while todo:
        d = todo.pop()
        if d in seen:
            continue
        seen.add(d)
        for line in md.requires(d) or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name.lower().replace("_", "-"))
    return seen


@functools.cache
def _modules():
    return md.packages_distributions()


def _providers(module):
    return {d.lower().replace("_", "-") for d in _modules().get(module, [])}


def test_requirements_txt_holds_no_test_tool():
    assert not _dists("requirements.txt") & {"pytest", "playwright", "axe-playwright-python", "nbclient",
                                              "ipykernel", "torch"}


def test_every_module_the_app_imports_is_installed_by_requirements_txt():
    installed = _closure(_dists("requirements.txt"))
    missing = {m: where for m, where in _imports(APP_CODE).items()
               if m not in OPTIONAL and not _providers(m) & installed}
    assert not missing, f"imported by the app but not installed by requirements.txt: {missing}"


def test_requirements_dev_adds_the_app_pytorch_and_every_test_tool():
    lines = _lines("requirements-dev.txt")
    assert "-r requirements.txt" in lines and "-r requirements-torch.txt" in lines
    installed = _closure(_dists("requirements.txt") | _dists("requirements-torch.txt")
                         | _dists("requirements-dev.txt"))
    missing = {m: where for m, where in _imports(["tests", "bench"]).items() if not _providers(m) & installed}
    assert not missing, f"imported by tests or benchmarks but in no requirements file: {missing}"
    assert "ipykernel" in _dists("requirements-dev.txt")     # the notebook test's python3 kernel, never imported


def test_ci_installs_requirements_dev_and_checks_the_app_alone():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -q -r requirements-dev.txt" in ci
    assert "scripts/check_app_install.py" in ci
