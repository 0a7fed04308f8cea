"""From digits to words: a character-level language model from scratch, in NumPy.

    text.py       the texts that ship with the app, the user's own text, characters <-> numbers
                  (the vocabulary), training/validation split
    bpe.py        byte-pair encoding: how GPT-style models cut text into tokens, merge by merge
    bigram.py     the bigram count table: probabilities, loss in nats per character, sampling
"""
