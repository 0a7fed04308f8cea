"""Finds the words on a page that did not come through the translation function.

Render a page in the pseudo-language "qps" (i18n.PSEUDO): every message that went through `_()`, `ngettext`
is shown ⟦like this⟧ and every text marked as data with `i18n.as_is()` ⟪like this⟫. `untranslated(at)` walks
everything the AppTest drew and returns the visible texts that still hold a word once those spans are removed.

The rule (no list of exempted strings): a visible text is fine when, after removing
  - ⟦…⟧ spans (translated) and ⟪…⟫ spans (data: a user's name, a corpus sample, a file path: `i18n.as_is`),
  - in markdown: `code spans`, $math$, link targets, HTML tags (their alt/title/aria-label are checked),
    entities, Streamlit's :material/icons: and :colour[ ] markers,
  - in a number format ("%.2f"): its conversion,
no run of two or more letters is left. Numbers, digits, symbols, emoji and single letters (x, W, b) may remain.
Exempt as a whole: st.code (code stays as it is), st.json, cell values of tables and dataframes (their column
headers are checked), a widget's current value (what the user typed or chose; its options are checked),
custom components (their own script), <style>/<script>.

A chart (Vega-Lite) shows its titles, axis and legend titles (a field's name when no title is given), legend
entries and axis labels of nominal fields, constant text marks, tooltip titles and its description (its
aria-label): all are checked. The values a tooltip or a text mark shows are the chart's data, exempt.
"""
import json
import re
import sys
from pathlib import Path

if __name__ == "__main__":          # python tests/i18n_check.py: the project's packages and the tests' helpers
    sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import i18n  # noqa: E402

WORD = re.compile(r"[^\W\d_]{2,}")
_SPANS = re.compile(r"⟦[^⟦⟧⟪⟫]*⟧|⟪[^⟦⟧⟪⟫]*⟫")
_MD_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)
_MD_MATH = re.compile(r"\$\$.*?\$\$|(?<![\\\w])\$[^$\n]+\$", re.S)
_MD_LINK = re.compile(r"\]\([^)]*\)")
_MD_BARE_URL = re.compile(r"<?https?://[^\s)>]+>?")
_MD_ICON = re.compile(r":material/[a-z_0-9]+:|:[a-z_]+:(?=\s|$)"
                      r"|:(?:red|orange|yellow|green|blue|violet|gray|grey|rainbow|primary)(?:-background)?\[")
_HTML_DROP = re.compile(r"<(style|script)\b.*?</\1\s*>", re.S | re.I)
_HTML_ATTR = re.compile(r"""\b(alt|title|aria-label|placeholder)\s*=\s*("[^"]*"|'[^']*')""", re.I)
_HTML_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&#?\w+;")
_PRINTF = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?[a-zA-Z%]")

# Proto fields that are never shown as words: ids, addresses, values the user set, styling.
SKIP_FIELDS = {
    "id", "form_id", "key", "url", "icon", "type", "default", "value", "raw_value", "set_value", "page",
    "page_script_hash", "data_type", "theme", "selection_mode", "color", "direction", "label_visibility",
    "width_config", "height_config", "text_alignment_config", "arrow_data", "data", "styler", "columns",
    "column_order", "editing_mode", "disabled", "min", "max", "step", "options_text", "accept_new_options",
    "mime_type", "file_id", "accept", "placeholder_url", "js_content", "css_content", "html_content",
    "js_source_path", "css_source_path", "component_name", "json", "src", "language", "block_id",
    "delta_color", "number_format", "ignore_on_change", "timezone", "position", "chart_height", "tag",
    "deferred_file_id", "query_string", "anchor",
}
SKIP_ELEMENTS = {"code", "json", "bidi_component", "component_instance", "exception", "skeleton", "empty",
                 "space", "balloons", "snow", "favicon", "iframe", "deck_gl_json_chart", "plotly_chart",
                 "graphviz_chart", "audio", "video", "echarts_chart"}


def strip_marked(text):
    """`text` without its ⟦translated⟧ and ⟪data⟫ spans (nested ones too)."""
    while True:
        out = _SPANS.sub(" ", text)
        if out == text:
            return out
        text = out


def leftover(text, kind="plain"):
    """The words of `text` that did not come through `_()` / `as_is()` ("" when none). kind: "plain",
    "markdown" (markdown with HTML), "html" or "format" (a printf number format)."""
    text = str(text)
    extra = []
    if kind in ("markdown", "html"):
        text = _HTML_DROP.sub(" ", text)
        extra = [m.group(2)[1:-1] for m in _HTML_ATTR.finditer(text)]
        text = _HTML_TAG.sub(" ", text)
        text = _ENTITY.sub(" ", text)
    if kind == "markdown":
        text = _MD_CODE.sub(" ", text)
        text = _MD_MATH.sub(" ", text)
        text = _MD_LINK.sub("] ", text)
        text = _MD_BARE_URL.sub(" ", text)
        text = _MD_ICON.sub(" ", text)
    if kind == "format":
        text = _PRINTF.sub(" ", text)
    left = [strip_marked(t) for t in [text, *extra]]
    return " ".join(" ".join(WORD.findall(t)) for t in left).strip()


def _walk_proto(msg, path, out):
    for field, value in msg.ListFields():
        name = field.name
        if name in SKIP_FIELDS:
            continue
        values = value if field.is_repeated else [value]
        for v in values:
            if field.type == field.TYPE_MESSAGE:
                _walk_proto(v, f"{path}.{name}", out)
            elif field.type == field.TYPE_STRING and v:
                kind = "format" if name == "format" else "markdown" if name in ("body", "help", "caption",
                                                                               "label", "captions") else "plain"
                out.append((f"{path}.{name}", v, kind))


def _frame_headers(df, path, out):
    for c in [*df.columns, *(df.index if df.index.dtype == object else [])]:
        if isinstance(c, str):
            out.append((path, c, "plain"))
    if df.columns.name:
        out.append((path, str(df.columns.name), "plain"))


def _field_values(datasets, field):
    vals = set()
    for df in datasets:
        if field in getattr(df, "columns", []):
            vals.update(v for v in df[field].tolist() if isinstance(v, str))
    return vals


def chart_texts(spec, datasets, path="chart"):
    """(where, text, kind) of every word a Vega-Lite spec shows; datasets: its DataFrames."""
    out = []

    def title(where, t):
        if isinstance(t, str):
            out.append((where, t, "plain"))
        elif isinstance(t, list):
            for s in t:
                title(where, s)
        elif isinstance(t, dict):
            for k in ("text", "subtitle"):
                title(f"{where}.{k}", t.get(k))

    def walk(node, where):
        if isinstance(node, list):
            for i, n in enumerate(node):
                walk(n, f"{where}[{i}]")
            return
        if not isinstance(node, dict):
            return
        for k, v in node.items():
            if k in ("title", "description"):
                title(f"{where}.{k}", v)
            elif k == "encoding" and isinstance(v, dict):
                for channel, enc in v.items():
                    for e in (enc if isinstance(enc, list) else [enc]):
                        encoding(channel, e, f"{where}.encoding.{channel}")
                walk(v, f"{where}.encoding")
            elif k == "mark" and isinstance(v, dict) and isinstance(v.get("text"), str):
                out.append((f"{where}.mark.text", v["text"], "plain"))
            elif k not in ("datasets", "data", "usermeta", "config", "params", "transform"):
                walk(v, f"{where}.{k}")

    def encoding(channel, e, where):
        if not isinstance(e, dict):
            return
        if channel == "text" and isinstance(e.get("value"), str):
            out.append((where, e["value"], "plain"))
        field = e.get("field")
        guide = e.get("axis" if channel in ("x", "y") else "legend", {})
        if not isinstance(field, str):
            return
        shown_guide = guide is not None and channel in ("x", "y", "color", "fill", "stroke", "shape", "size",
                                                        "opacity", "strokeDash", "column", "row", "facet")
        if "title" not in e and (shown_guide or channel == "tooltip"):
            out.append((f"{where}.field", field, "plain"))             # the field's name is its title
        nominal = e.get("type") in ("nominal", "ordinal")
        if nominal and shown_guide:             # axis labels, legend entries (a tooltip's or text mark's: data)
            domain = (e.get("scale") or {}).get("domain")
            shown = domain if isinstance(domain, list) else _field_values(datasets, field)
            out.extend((f"{where}.values", s, "plain") for s in shown if isinstance(s, str))

    walk(spec, path)
    return out


def visible_texts(at):
    """(where, text, kind) for every visible text of the AppTest's page (main area and sidebar)."""
    from streamlit import dataframe_util
    out = []
    for node in at._tree:
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if proto is None or kind in SKIP_ELEMENTS:
            continue
        where = kind + (f"[{node.key}]" if getattr(node, "key", None) else "")
        if kind == "vega_lite_chart":
            datasets = [dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data) for d in proto.datasets]
            if proto.data.data:
                datasets.append(dataframe_util.convert_arrow_bytes_to_pandas_df(proto.data.data))
            out.extend(chart_texts(json.loads(proto.spec), datasets, where))
            if proto.alt:
                out.append((where + ".alt", proto.alt, "plain"))
            continue
        if kind in ("dataframe", "table"):
            _frame_headers(node.value, where, out)
            found = []
            _walk_proto(proto, where, found)
            out.extend(found)
            continue
        found = []
        _walk_proto(proto, where, found)
        if kind == "html":
            found = [(w, t, "html") for w, t, _k in found]
        out.extend(found)
    return out


def untranslated(at):
    """[(where, text, leftover words)] of the page's visible texts that did not come through `_()`."""
    bad = []
    for where, text, kind in visible_texts(at):
        words = leftover(text, kind)
        if words:
            bad.append((where, text, words))
    return bad


def report(bad, limit=40):
    """One line a text, for an assertion message."""
    lines = [f"  {w}: {t!r:.160}  -> words outside _(): {left!r:.80}" for w, t, left in bad[:limit]]
    more = f"\n  ... and {len(bad) - limit} more" if len(bad) > limit else ""
    return f"{len(bad)} visible texts did not come through _() (i18n):\n" + "\n".join(lines) + more




def open_page_in(name, code=i18n.PSEUDO):
    """The AppTest of the page called `name` ("train", "home", ...) opened with ?lang=code, its work done."""
    from streamlit.testing.v1 import AppTest

    from apptest_utils import APP, finish_line_work
    from ui import pages
    page = pages.page(name)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = code
    at.run()
    if page is not pages.HOME:
        at.switch_page(page.path)
        at.run()
    assert not at.exception, at.exception
    return finish_line_work(at)


if __name__ == "__main__":
    # python tests/i18n_check.py [page ...]: each page's texts that did not come through _() (all pages if none)
    from ui import pages as _pages
    names = sys.argv[1:] or [p.name for p in _pages.PAGES]
    failed = 0
    for name in names:
        bad = untranslated(open_page_in(name))
        failed += bool(bad)
        print(f"{name}: " + (report(bad, limit=1000) if bad else "every visible text comes through _()"))
    sys.exit(1 if failed else 0)
