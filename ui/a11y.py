"""Accessibility: words for the pictures, readable colours, text a screen reader announces.

A screen reader cannot see a picture, so every st.image gets an `alt` that says
what it shows ("training image 27, label 9"), built here so every page words it
the same way. Colours for text are checked against WCAG 2's contrast ratio
(4.5:1 for normal text) and darkened until they pass. tests/browser/test_browser_a11y.py
runs axe-core on every page to keep it so.
"""
import html

import streamlit as st

from i18n import N_, _

AA = 4.5          # WCAG 2 AA contrast for normal text (3:1 is enough for large text)


# ---------------------------------------------------------------- words for pictures
# A digit picture's words, by the set it comes from ("training" or "test") and whether its label is said.
DIGIT_WORDS = {("training", False): N_("training image {index}"),
               ("training", True): N_("training image {index}, label {label}"),
               ("test", False): N_("test image {index}"),
               ("test", True): N_("test image {index}, label {label}")}


def digit_alt(kind, index, label=None, extra=""):
    """'training image 27, label 9': one MNIST digit picture, said in words. kind: "training" or "test";
    extra: more words, already in the run's language ("predicted 4")."""
    words = _(DIGIT_WORDS[kind, label is not None]).format(index=index, label=label)
    return words + (f", {extra}" if extra else "")


def digits_alt(kind, indices, labels, extra=None):
    """One digit_alt per picture of a row of digits (st.image with a list)."""
    extra = extra or [""] * len(indices)
    return [digit_alt(kind, int(i), labels[i], e) for i, e in zip(indices, extra)]


def weights_alt(n_units):
    """The grid of the first layer's weight pictures."""
    return _("Weights of the first {n} hidden units of the first layer, each as a 28×28 picture: "
             "orange pixels push the unit up, blue pixels push it down.").format(n=n_units)


# ---------------------------------------------------------------- colours
def _luminance(color):
    """WCAG 2 relative luminance of '#rrggbb'."""
    c = [int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg, bg="#ffffff"):
    """WCAG 2 contrast ratio of two '#rrggbb' colours, 1 to 21."""
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable(color, bg="#ffffff", ratio=AA):
    """`color` darkened (same hue) just enough that text in it reaches `ratio` on `bg`:
    the digit colours of the charts, usable for words too."""
    rgb = [int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    for step in range(101):
        out = "#" + "".join(f"{round(v * (1 - step / 100)):02x}" for v in rgb)
        if contrast(out, bg) >= ratio:
            return out
    return "#000000"


# ---------------------------------------------------------------- keyboard focus
FOCUS = "#1a56b0"      # 6.9:1 on white: a focus ring must stand out at 3:1 (WCAG 2.4.7, 1.4.11)

# Streamlit draws no focus ring on the sidebar's page links and only the browser's
# faint one on toggles and checkboxes, whose real <input> is hidden: a keyboard user
# cannot see where they are. One clear ring for everything focused by keyboard
# (:focus-visible: a mouse click shows none), on the visible label for hidden inputs.
CSS = f"""
<style>
:focus-visible {{ outline: 3px solid {FOCUS} !important; outline-offset: 2px; }}
label:has(input:focus-visible) {{ outline: 3px solid {FOCUS}; outline-offset: 2px; border-radius: 4px; }}
/* Nothing is cut short with "...": menu titles, links, buttons and switches wrap onto a second line (in every
   language: Italian runs about 20% longer than English; in presenter mode's big text too). */
[data-testid="stSidebarNavLink"] {{ height: auto; min-height: 2rem; }}
[data-testid="stSidebarNavLink"] *, .stMarkdownEllipsis, .stMarkdownEllipsis *, [data-testid="stPageLink"] * {{
    white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }}
[data-testid="stSidebarNavLink"] * {{ line-height: 1.25; }}
</style>
"""


# Streamlit colours code (st.code) with its own palette, and on the code background (#f7f7f6)
# keywords (#1c83e1: 3.6:1), strings, numbers and comments fall short of 4.5:1 (axe on the
# PyTorch page): the same hues, darkened just enough (readable), for every token kind it colours.
CODE_BG = "#f7f7f6"
CODE_TOKENS = {
    ".token.comment, .token.prolog, .token.doctype, .token.cdata, .token.punctuation, .token.unchanged": "#808495",
    ".token.attr-name, .token.property, .token.variable": "#00a4d4",
    ".token.boolean, .token.constant, .token.symbol, .token.inserted": "#21c354",
    ".token.number, .token.regex": "#29b09d",
    ".token.string, .token.char, .token.attr-value": "#09ab3b",
    ".token.operator, .token.entity, .token.decorator, .token.atrule": "#ed6f13",
    ".token.url": "#6d3fc0",
    ".token.keyword, .token.tag, .token.function, .token.class-name, .token.selector": "#1c83e1",
    ".token.important, .token.deleted": "#ff4b4b",
}


def code_css():
    """CSS giving every coloured token of st.code a colour that passes AA on the code background."""
    return "\n".join(", ".join(f"[data-testid=stCode] {one.strip()}" for one in tokens.split(","))
                     + f" {{ color: {readable(color, CODE_BG)} !important; }}" for tokens, color in CODE_TOKENS.items())


def styles():
    """The app-wide accessibility styles (dashboard.py calls this on every page)."""
    st.html(CSS.replace("</style>", code_css() + "\n</style>"))


# ---------------------------------------------------------------- the menu's sections, as lists
# Streamlit (1.67) draws a menu with sections as <ul><div><header>Start</header><li>...</li></div>...</ul>:
# to a screen reader its links are list items in no list (axe: list, listitem, both "serious"). This script
# gives each section the list role, named by its header (which it then hides from screen readers, as the
# list says it), and takes the role off the outer <ul>. It runs again whenever Streamlit redraws the menu.
MENU_JS = """
export default function() {
    const fix = () => {
        const ul = document.querySelector('[data-testid=stSidebarNavItems]');
        if (!ul || ![...ul.children].some(c => c.tagName === 'DIV')) return;   // no sections: a valid list
        if (ul.getAttribute('role') !== 'none') ul.setAttribute('role', 'none');
        for (const section of ul.children) {
            if (section.tagName !== 'DIV') continue;
            const header = section.querySelector(':scope > [data-testid=stNavSectionHeader]');
            if (section.getAttribute('role') !== 'list') section.setAttribute('role', 'list');
            if (!header) continue;
            const name = (header.querySelector('[data-testid=stMarkdownContainer]') || header).innerText.trim();
            if (section.getAttribute('aria-label') !== name) section.setAttribute('aria-label', name);
            if (header.getAttribute('aria-hidden') !== 'true') header.setAttribute('aria-hidden', 'true');
        }
    };
    fix();
    if (!window.digitsMenuLists) {        // one watcher per browser tab, however often the page reruns
        window.digitsMenuLists = new MutationObserver(fix);
        window.digitsMenuLists.observe(document.body, {childList: true, subtree: true});
    }
}
"""


@st.cache_resource
def _menu_component():
    return st.components.v2.component("digits_menu_lists", js=MENU_JS)


def menu_lists():
    """Make the menu's sections proper lists for screen readers (dashboard.py, once per run, in the sidebar)."""
    _menu_component()(key="menu_lists")


# ---------------------------------------------------------------- announcements
def announce(markup, element_id=None, where=st):
    """Show `markup` (trusted HTML made by the app) in a polite live region: a screen
    reader reads it out each time it changes, e.g. the Draw page's guess."""
    attr = f' id="{html.escape(element_id)}"' if element_id else ""
    where.markdown(f'<div role="status" aria-live="polite"{attr}>{markup}</div>', unsafe_allow_html=True)
