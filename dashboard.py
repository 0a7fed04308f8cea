"""Digits from Scratch: start with `streamlit run dashboard.py`.

This file sets up the app and what every page shares: the sidebar (presenter
mode, a run training on, this browser's key) and the menu. The pages live in
app_pages/, listed once, in teaching order, in ui/pages.py.
"""
import os

# One BLAS thread per training session: on a shared classroom server many
# sessions train at once, and threads fighting over 2 cores are 5-10x slower.
# (Must be set before NumPy is first imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import streamlit as st  # noqa: E402

from ui import a11y, keep, keep_shared, linework, pages, presenter, training, translation  # noqa: E402
from ui.language import train as language_train  # noqa: E402

translation.choose()        # first, every word after is in it: the link's, the picker's or the browser's language
st.set_page_config(page_title=pages.app_name(), page_icon=pages.APP_ICON, layout="wide")

a11y.styles()                           # a visible keyboard focus ring (ui/a11y.py)
presenter.presenter_toggle()            # sidebar switch on every page (ui/presenter.py)
translation.picker()                    # the language picker, and the page's <html lang> (ui/translation.py)
training.sync()                         # a run that ended in its thread is recorded before any page draws
language_train.sync()
with st.sidebar:
    browser = keep.browser_key()        # this browser's own key (ui/keep.py): nothing lost on reload
    keep_shared.follow_failover()       # a school's server: a page moved to another process runs again
keep.offer(browser)                     # "Welcome back": restore what this browser left here
page = st.navigation(pages.menu(), expanded=True)   # every page, in lesson sections, no "View more"
with st.sidebar:
    a11y.menu_lists()                   # ... each section a list a screen reader can follow (ui/a11y.py)
linework.leave_other_pages(page.url_path)   # a page's long computation stops when another page is shown
page.run()
if page.url_path != "train":            # a run in progress trains on, shown in the sidebar
    training.sidebar_panel()            # (the Train page draws its own live panel)
if page.url_path != "train_language":   # the same for a language model's run
    language_train.sidebar_panel()
keep.remember(browser)
