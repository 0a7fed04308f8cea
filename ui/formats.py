"""How numbers are written on the pages and in the charts."""
import numpy as np


def num(v):
    """A number for the text: 4 decimals, or scientific notation when tiny."""
    v = float(v) + 0.0   # + 0.0 turns -0.0 into 0.0
    return f"{v:.4f}" if v == 0 or abs(v) >= 1e-3 else f"{v:.2e}"


def sure_text(p):
    """A probability as a percentage that never rounds up to a certain-sounding '100%'."""
    return f"{np.floor(p * 1000) / 10:.1f}%" if p >= 0.995 else f"{p:.0%}"


def value_text(v):
    """Whole numbers (a one-hot label's 0 and 1) without decimals, other values with two."""
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def output_text(value, is_probability):
    """One output of the network: a probability as sure_text, the score of a sigmoid
    output (MSE models, whose outputs need not add up to 1) as 'output 0.87'."""
    return sure_text(value) if is_probability else f"output {value:.2f}"
