"""Text becomes numbers: the corpora that ship with the app and the vocabulary.

A character-level language model reads text one character at a time. Each
distinct character of the training text gets a number, its id (0, 1, 2, ...,
V-1 in sorted order); the text becomes an array of ids and the model learns,
from the ids so far, the probabilities of the next id.

Texts that ship with the app (see corpus/README.md for where they come from):

    "shakespeare"  tiny Shakespeare, 1.1 MB of plays (public domain)
    "names"        32,033 US first names, one a line (public domain)

Only NumPy and the standard library are used here.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CORPUS_DIR = Path(__file__).parent / "corpus"
CORPORA = {                      # name -> file in CORPUS_DIR
    "shakespeare": "tinyshakespeare.txt",
    "names": "names.txt",
}


def load_corpus(name):
    """The text of a corpus that ships with the app ("shakespeare" or "names"), as a str."""
    if name not in CORPORA:
        raise ValueError(f"There is no text called {name!r}; the app has {', '.join(CORPORA)}.")
    return (CORPUS_DIR / CORPORA[name]).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Vocabulary:
    """The characters a model knows, in sorted order: chars[i] has id i.

    encode("hi") -> array([id('h'), id('i')]) (int32), decode(ids) -> str.
    A character the vocabulary does not have is an *unknown* character: encode
    refuses it unless `unknown` names a known character to put in its place
    (see `unknown_chars` to find and report them first).
    """
    chars: tuple

    @classmethod
    def of(cls, text):
        """The vocabulary of a text: every distinct character in it."""
        return cls(tuple(sorted(set(text))))

    @property
    def size(self):
        """V, the number of characters (the model's number of outputs)."""
        return len(self.chars)

    def ids(self):
        """{character: id}."""
        return {c: i for i, c in enumerate(self.chars)}

    def unknown_chars(self, text):
        """The distinct characters of `text` this vocabulary does not have, sorted."""
        return sorted(set(text) - set(self.chars))

    def encode(self, text, unknown=None):
        """text (str, length T) -> ids (int32, shape (T,))."""
        table = self.ids()
        if unknown is not None:
            fill = table[unknown]
            return np.fromiter((table.get(c, fill) for c in text), dtype=np.int32, count=len(text))
        missing = self.unknown_chars(text)
        if missing:
            raise ValueError(f"The model has never seen {len(missing)} of these characters: "
                             f"{''.join(missing)[:20]!r}.")
        return np.fromiter((table[c] for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids):
        """ids (ints) -> the text they stand for."""
        return "".join(self.chars[int(i)] for i in ids)


def split(ids, validation=0.1):
    """Training and validation parts of an encoded text: the last `validation`
    fraction is kept apart (held out), like the digits' validation set.
    Returns (train_ids, val_ids), views of `ids`."""
    n_val = int(round(len(ids) * validation))
    cut = len(ids) - n_val
    return ids[:cut], ids[cut:]
