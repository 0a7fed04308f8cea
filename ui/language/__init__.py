"""Streamlit helpers of the "From digits to words" pages (the language model)."""
