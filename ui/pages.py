"""The app's pages in teaching order: the one list behind the menu (dashboard.py),
the Home page's guide, every page's title and every link to a page.

A page's file name gives its address (app_pages/4_train.py is served at /train,
as st.navigation derives it), except Home's: the first page is the default one,
served at the app's root address.
"""
from pathlib import Path
from typing import NamedTuple

import streamlit as st

APP_NAME, APP_ICON = "Digits from Scratch", "🔢"     # the browser tab and Home's title


class Page(NamedTuple):
    path: str       # the page's file, relative to dashboard.py
    title: str      # in the menu and on links to the page
    icon: str
    heading: str    # the page's own title, after its icon
    line: str       # what the Home guide says about it

    @property
    def name(self):
        """The page's address and its name here: the file name without its number."""
        return Path(self.path).stem.split("_", 1)[1]


PAGES = [
    Page("app_pages/0_home.py", "Home", "🏠", APP_NAME, "What the app is, the data and the current model."),
    Page("app_pages/1_dataset.py", "Dataset: images become numbers", "🖼️", "Dataset: how images become numbers",
         "How a 28×28 picture becomes 784 numbers, and the whole dataset one big matrix."),
    Page("app_pages/2_one_hot.py", "One-hot encoding", "🎯", "One-hot encoding",
         "Why the label 3 is written [0, 0, 0, 1, 0, …]: one target per output neuron."),
    Page("app_pages/3_how_it_learns.py", "How it learns", "🧠", "How it learns",
         "One step on one image: forward, loss, backward (blame) and the update (learning)."),
    Page("app_pages/3b_convolution.py", "Convolution", "🪟", "Convolution: a small window that slides",
         "How a CNN looks at a digit: a 5×5 kernel slides over it, and feature maps, pooling and shared weights."),
    Page("app_pages/4_train.py", "Train", "🏋️", "Train your own network",
         "Train your own network here and watch the loss fall."),
    Page("app_pages/5_evaluate.py", "Evaluate", "📊", "Evaluate a model",
         "How good is it? Accuracy, confusions and its mistakes."),
    Page("app_pages/6_draw.py", "Draw", "✏️", "Draw a digit", "Draw a digit and see what the network thinks."),
    Page("app_pages/7_inside.py", "Inside the network", "🔬", "Inside the trained network",
         "What the hidden units respond to, how digits separate layer by layer, and where the network breaks."),
    Page("app_pages/7b_why_convolutions.py", "Why convolutions?", "🧩", "Why convolutions?",
         "Move the digits a few pixels: how well the MLP and the CNN still read them, and why."),
    Page("app_pages/8_compare.py", "Compare runs", "⚖️", "Compare runs",
         "Your runs side by side: which setting made the difference?"),
    Page("app_pages/8b_class.py", "Our class", "👩‍🏫", "Our class's handwriting",
         "The digits the class drew, how well the models read them, and the class leaderboard."),
    Page("app_pages/9_pytorch.py", "Same network in PyTorch", "🔥", "The same network in PyTorch",
         "Your network in PyTorch, line by line and number for number, and a notebook to take home."),
    # From digits to words (issue 23). Their menu section comes with the projector branch's sections.
    Page("app_pages/10_tokens.py", "Tokens: text becomes numbers", "🔤", "Tokens: text becomes numbers",
         "Characters become ids, one-hot vectors and embeddings; and how GPT cuts text into tokens (BPE)."),
    Page("app_pages/11_next_character.py", "Next character", "🔮", "Next character: counting pairs",
         "Count which character follows which, let a network learn the same, and sample new text."),
    Page("app_pages/12_train_language.py", "Train a language model", "✍️", "Train a language model",
         "Train a bigram, an MLP or a transformer on a text and watch its samples turn from gibberish into words."),
]
HOME = PAGES[0]
_BY_NAME = {p.name: p for p in PAGES}


def page(name):
    """The Page called `name` ("train", "compare", ...)."""
    return _BY_NAME[name]


def menu():
    """The pages for st.navigation, Home first and the default. Each page's address is set from
    its name: Streamlit would keep the letter of a number like "3b" (3b_convolution.py)."""
    return [st.Page(p.path, title=p.title, icon=p.icon, default=p is HOME, url_path=None if p is HOME else p.name)
            for p in PAGES]


def title(name):
    """A page's st.title: its icon and heading (Home wears the app's own icon)."""
    p = page(name)
    return f"{APP_ICON if p is HOME else p.icon} {p.heading}"


def page_link(name, label=None, where=st):
    """A link to the page called `name` in `where` (st, a column, the sidebar),
    with the page's icon and its menu title unless `label` says otherwise."""
    p = page(name)
    where.page_link(p.path, label=label or p.title, icon=p.icon)
