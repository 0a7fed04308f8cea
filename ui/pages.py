"""The app's pages in teaching order: the one list behind the menu (dashboard.py),
the Home page's guide, every page's title and every link to a page.

Each page names the lesson section it belongs to; the menu and the Home guide show the
sections in the order they first appear here. A new section is pages with a new section
name, put where the lesson takes them (e.g. "From digits to words" before "Our class").

A page's file name gives its address (app_pages/4_train.py is served at /train,
as st.navigation derives it), except Home's: the first page is the default one,
served at the app's root address.

Every text here is English, marked N_() (i18n): the menu, the titles and the Home guide translate it where
it is shown, in the language of the run.
"""
from pathlib import Path
from typing import NamedTuple

import streamlit as st

from i18n import NC_, N_, _, pgettext

APP_NAME, APP_ICON = N_("Digits from Scratch"), "🔢"     # the browser tab and Home's title


class Page(NamedTuple):
    path: str       # the page's file, relative to dashboard.py
    title: str      # in the menu and on links to the page
    icon: str
    heading: str    # the page's own title, after its icon
    line: str       # what the Home guide says about it
    section: str    # the lesson section it sits under in the menu and the Home guide
    # All four texts are English, marked N_() here and translated where shown: _(p.title), _(p.line), ...

    @property
    def name(self):
        """The page's address and its name here: the file name without its number."""
        return Path(self.path).stem.split("_", 1)[1]


# The sections' words have a context of their own ("Start" is a button too); Babel reads it as written here.
SECTION = "menu section"
START, MLP = NC_("menu section", "Start"), NC_("menu section", "Digits with an MLP")
CNN = NC_("menu section", "Convolutions")
CLASS, TORCH = NC_("menu section", "Our class"), NC_("menu section", "PyTorch")
WORDS = NC_("menu section", "From digits to words")            # issue 23's language pages
PAGES = [
    Page("app_pages/0_home.py", N_("Home"), "🏠", APP_NAME, N_("What the app is, the data and the current model."),
         START),
    Page("app_pages/1_dataset.py", N_("Dataset: images become numbers"), "🖼️",
         N_("Dataset: how images become numbers"),
         N_("How a 28×28 picture becomes 784 numbers, and the whole dataset one big matrix."), START),
    Page("app_pages/2_one_hot.py", N_("One-hot encoding"), "🎯", N_("One-hot encoding"),
         N_("Why the label 3 is written [0, 0, 0, 1, 0, …]: one target per output neuron."), START),
    Page("app_pages/3_how_it_learns.py", N_("How it learns"), "🧠", N_("How it learns"),
         N_("One step on one image: forward, loss, backward (blame) and the update (learning)."), MLP),
    Page("app_pages/4_train.py", N_("Train"), "🏋️", N_("Train your own network"),
         N_("Train your own network here and watch the loss fall (an MLP first; a CNN after the Convolutions pages)."),
         MLP),
    Page("app_pages/5_evaluate.py", N_("Evaluate"), "📊", N_("Evaluate a model"),
         N_("How good is it? Accuracy, confusions and its mistakes."), MLP),
    Page("app_pages/6_draw.py", N_("Draw"), "✏️", N_("Draw a digit"),
         N_("Draw a digit and see what the network thinks."), MLP),
    Page("app_pages/7_inside.py", N_("Inside the network"), "🔬", N_("Inside the trained network"),
         N_("What the hidden units respond to, how digits separate layer by layer, and where the network breaks."),
         MLP),
    Page("app_pages/8_compare.py", N_("Compare runs"), "⚖️", N_("Compare runs"),
         N_("Your runs side by side: which setting made the difference?"), MLP),
    Page("app_pages/7b_why_convolutions.py", N_("Why convolutions?"), "🧩", N_("Why convolutions?"),
         N_("Move the digits a few pixels: how well the MLP and the CNN still read them, and why."), CNN),
    Page("app_pages/3b_convolution.py", N_("Convolution"), "🪟", N_("Convolution: a small window that slides"),
         N_("How a CNN looks at a digit: a 5×5 kernel slides over it, and feature maps, pooling and shared weights. "
         "Then train a CNN of your own on the Train page."), CNN),
    Page("app_pages/8b_class.py", N_("Our class"), "👩‍🏫", N_("Our class's handwriting"),
         N_("The digits the class drew, how well the models read them, and the class leaderboard."), CLASS),
    Page("app_pages/9_pytorch.py", N_("Same network in PyTorch"), "🔥", N_("The same network in PyTorch"),
         N_("Your network in PyTorch, line by line and number for number, and a notebook to take home."), TORCH),
    Page("app_pages/10_tokens.py", N_("Tokens: text becomes numbers"), "🔤", N_("Tokens: text becomes numbers"),
         N_("Characters become ids, one-hot vectors and embeddings; and how GPT cuts text into tokens (BPE)."), WORDS),
    Page("app_pages/11_next_character.py", N_("Next character"), "🔮", N_("Next character: counting pairs"),
         N_("Count which character follows which, let a network learn the same, and sample new text."), WORDS),
    Page("app_pages/12_train_language.py", N_("Train a language model"), "✍️", N_("Train a language model"),
         N_("Train a bigram, an MLP or a transformer on a text and watch its samples turn from gibberish into words."),
         WORDS),
    Page("app_pages/13_attention.py", N_("Attention"), "👀", N_("Attention: where each character looks"),
         N_("Your sentence through a trained transformer: queries, keys, scores, mask, softmax, head by head."), WORDS),
    Page("app_pages/14_inside_language.py", N_("Inside a language model"), "⚙️", N_("Inside a language model"),
         N_("Embedding map, loss against context and size, counts next to GPT-2, and the key/value cache timed."),
         WORDS),
    Page("app_pages/15_pytorch_language.py", N_("Language model in PyTorch"), "🔥",
         N_("The language model in PyTorch"),
         N_("The transformer in PyTorch's modules, part by part next to ours, the same numbers, and a notebook."),
         WORDS),
]
HOME = PAGES[0]
_BY_NAME = {p.name: p for p in PAGES}


def page(name):
    """The Page called `name` ("train", "compare", ...)."""
    return _BY_NAME[name]


def app_name():
    """The app's name in this run's language (the browser tab, Home's title)."""
    return _(APP_NAME)


def section_name(section):
    """A lesson section's name (Page.section, English) in this run's language."""
    return pgettext(SECTION, section)


def sections():
    """{section: [Page, ...]} in lesson order: each section where its first page is in PAGES. The section
    names are the English ones (as in Page.section): show them with section_name(section)."""
    grouped = {}
    for p in PAGES:
        grouped.setdefault(p.section, []).append(p)
    return grouped


def menu():
    """The pages for st.navigation, {section: [st.Page, ...]}, Home first and the default. Each page's
    address is set from its name: Streamlit would keep the letter of a number like "3b" (3b_convolution.py)."""
    return {section_name(section): [st.Page(p.path, title=_(p.title), icon=p.icon, default=p is HOME,
                                 url_path=None if p is HOME else p.name) for p in group]
            for section, group in sections().items()}


def title(name):
    """A page's st.title: its icon and heading (Home wears the app's own icon)."""
    p = page(name)
    return f"{APP_ICON if p is HOME else p.icon} {_(p.heading)}"


def page_link(name, label=None, where=st, query=None):
    """A link to the page called `name` in `where` (st, a column, the sidebar),
    with the page's icon and its menu title (translated) unless `label` (already in the run's language) says
    otherwise;
    query: the address's parameters (a lesson link's, e.g. {"kind": "cnn"} for Train)."""
    p = page(name)
    where.page_link(p.path, label=label or _(p.title), icon=p.icon, query_params=query)
