"""Streamlit helpers shared by the pages: state/caching (state.py) and charts (charts.py)."""
