"""Digits from Scratch: start with `streamlit run dashboard.py`.

This file sets up the app (title, icon, navigation) and holds the Home page.
Each other page lives in pages/ and is listed here in teaching order.
"""
import streamlit as st

st.set_page_config(page_title="Digits from Scratch", page_icon="🔢", layout="wide")


def home():
    st.title("🔢 Digits from Scratch")
    st.write("Coming soon: the home page.")


pages = [
    st.Page(home, title="Home", icon="🏠", default=True),
    st.Page("pages/1_dataset.py", title="Dataset: images become numbers", icon="🖼️"),
    st.Page("pages/2_one_hot.py", title="One-hot encoding", icon="🎯"),
    st.Page("pages/3_how_it_learns.py", title="How it learns", icon="🧠"),
    st.Page("pages/4_train.py", title="Train", icon="🏋️"),
    st.Page("pages/5_evaluate.py", title="Evaluate", icon="📊"),
    st.Page("pages/6_draw.py", title="Draw", icon="✏️"),
]
st.navigation(pages).run()
