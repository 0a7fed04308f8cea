"""Streamlit helpers shared by the pages (the engine never imports Streamlit).

docs/internals.md ("What is inside") lists every module and its one job."""
