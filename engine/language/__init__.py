"""From digits to words: a character-level language model from scratch, in NumPy.

    text.py       the texts that ship with the app, characters <-> numbers (the vocabulary), splits
"""
