"""Every Altair chart of the app is built here, so pages stay thin and look alike.

One colour per digit everywhere (DIGIT_COLORS), the same in every chart.
"""
import altair as alt
import numpy as np
import pandas as pd

# Tableau-10: ten colours that stay distinct for most kinds of colour blindness.
DIGIT_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
DIGITS = [str(d) for d in range(10)]


def digit_scale():
    """Altair colour scale mapping '0'..'9' to DIGIT_COLORS."""
    return alt.Scale(domain=DIGITS, range=DIGIT_COLORS)
