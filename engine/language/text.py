"""Text becomes numbers: the corpora that ship with the app and the vocabulary.

A character-level language model reads text one character at a time. Each
distinct character of the training text gets a number, its id (0, 1, 2, ...,
V-1 in sorted order); the text becomes an array of ids and the model learns,
from the ids so far, the probabilities of the next id.

Texts that ship with the app (see corpus/README.md for where they come from):

    "shakespeare"  tiny Shakespeare, 1.1 MB of plays (public domain)
    "names"        32,033 US first names, one a line (public domain), in a fixed shuffled order

The user's own text (pasted, or a .txt file) is checked by read_text_file /
check_text: anything but UTF-8 text of MIN_CHARS characters to MAX_TEXT_BYTES
gets a TextError whose message is one sentence for the user.

Only NumPy and the standard library are used here.
"""
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from i18n import _, num

CORPUS_DIR = Path(__file__).parent / "corpus"
CORPORA = {                      # name -> file in CORPUS_DIR
    "shakespeare": "tinyshakespeare.txt",
    "names": "names.txt",
}


MAX_TEXT_BYTES = 2 * 2**20      # the user's own text: 2 MB of UTF-8, about twice tiny Shakespeare
MIN_CHARS = 20                  # enough pairs to count, and some characters kept apart for validation
MAX_VOCAB = 300                 # distinct characters: a bigram table is V×V (300 × 300 = 90,000 cells)
CONTROL_SHARE = 0.01            # more control characters than this (not tab or line ends): not text
WHITESPACE_CONTROLS = frozenset("\t\n\x0b\x0c\r")


class TextError(ValueError):
    """A text the app cannot use; its message is one sentence for the user."""


NAMES_SEED = 0                  # the one fixed order of the names (see load_corpus)


def load_corpus(name):
    """The text of a corpus that ships with the app ("shakespeare" or "names"), as a str.

    The names file lists the most popular names first and the rarest (alphabetically) last;
    held out as it is, the validation tenth would be rare names unlike the training ones. So
    the names come shuffled, in one fixed order (NAMES_SEED), as makemore shuffles them
    before its split: every tenth of the list is then like the rest.
    """
    if name not in CORPORA:
        raise ValueError(_("There is no text called {name!r}; the app has {names}.").format(
            name=name, names=", ".join(CORPORA)))
    text = (CORPUS_DIR / CORPORA[name]).read_text(encoding="utf-8")
    if name == "names":
        lines = text.split("\n")
        end = lines.pop() if lines[-1] == "" else None
        order = np.random.default_rng(NAMES_SEED).permutation(len(lines))
        text = "\n".join(lines[i] for i in order) + ("\n" if end is not None else "")
    return text


@dataclass(frozen=True)
class Vocabulary:
    """The characters a model knows, in sorted order: chars[i] has id i.

    encode("hi") -> array([id('h'), id('i')]) (int32), decode(ids) -> str.
    A character the vocabulary does not have is an *unknown* character: encode
    refuses it unless `unknown` names a known character to put in its place;
    lookup() gives it the id -1 instead, and unknown_counts() counts them
    (to say which and how many before a model reads the text).

    Speed (the one trick here): a text is read as an array of Unicode code
    points (its UTF-32 bytes, one C call) and every code point becomes its id
    through one table indexed by code point, `_table`: 1.1 MB of text encodes
    in a few milliseconds, with no Python loop over characters.
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

    @cached_property
    def _codes(self):
        """Code point of each id, (V,) uint32 (sorted: str order is code point order)."""
        return code_points("".join(self.chars))

    @cached_property
    def _table(self):
        """Id of each code point 0..max, -1 for code points not in the vocabulary; its last
        entry (max + 1, -1) stands for every code point above max."""
        table = np.full(int(self._codes.max(initial=0)) + 2, -1, dtype=np.int32)
        table[self._codes] = np.arange(len(self._codes), dtype=np.int32)
        return table

    def lookup(self, text):
        """text (str, length T) -> ids (int32, (T,)), -1 where a character is unknown."""
        table = self._table
        return table[np.minimum(code_points(text), len(table) - 1)]

    def unknown_counts(self, text):
        """{unknown character: how many times it occurs in text}, most frequent first."""
        codes = code_points(text)[self.lookup(text) < 0]
        values, counts = np.unique(codes, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return {chr(int(values[i])): int(counts[i]) for i in order}

    def unknown_chars(self, text):
        """The distinct characters of `text` this vocabulary does not have, sorted."""
        return sorted(self.unknown_counts(text))

    def encode(self, text, unknown=None):
        """text (str, length T) -> ids (int32, shape (T,))."""
        ids = self.lookup(text)
        missing = ids < 0
        if missing.any():
            if unknown is None:
                chars = self.unknown_chars(text)
                raise ValueError(_("The model has never seen {n} of these characters: {chars!r}.").format(
                    n=num(len(chars)), chars="".join(chars)[:20]))
            ids[missing] = self.ids()[unknown]
        return ids

    def decode(self, ids):
        """ids (ints) -> the text they stand for."""
        codes = self._codes[np.asarray(ids, dtype=np.int64)]
        return codes.astype("<u4").tobytes().decode("utf-32-le", errors="surrogatepass")


def code_points(text):
    """The Unicode code point of each character of text, (T,) uint32 (lone surrogates kept)."""
    return np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4")


def split(ids, validation=0.1):
    """Training and validation parts of an encoded text: the last `validation`
    fraction is kept apart (held out), like the digits' validation set.
    Returns (train_ids, val_ids), views of `ids`."""
    n_val = int(round(len(ids) * validation))
    cut = len(ids) - n_val
    return ids[:cut], ids[cut:]


# ---------------------------------------------------------------- the user's own text

def read_text_file(data, name=None):
    """The bytes of an uploaded .txt file -> its text (str), checked by check_text.

    UTF-8 only (a byte-order mark at the start is dropped). Raises TextError:
    empty, too big, binary (zero bytes: pictures, programs, UTF-16 files) or not UTF-8.
    """
    name = name or _("The file")
    if not data:
        raise TextError(_("{name} is empty (0 bytes): choose a .txt file with some text in it.").format(name=name))
    if len(data) > MAX_TEXT_BYTES:
        raise TextError(_("{name} is too big ({mb} MB; at most {most} MB): choose a smaller .txt file, or paste a "
                          "part of it.").format(name=name, mb=num(len(data) / 2**20, 1),
                                                most=num(MAX_TEXT_BYTES / 2**20)))
    if b"\x00" in data:
        raise TextError(_("{name} is not a text file (it has zero bytes, as pictures, programs and UTF-16 "
                          "files do): choose a .txt file saved as UTF-8.").format(name=name))
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TextError(_("{name} is not UTF-8 text (byte {byte} cannot be read as UTF-8): "
                          "save it as UTF-8 (\"Unicode\") and upload it again.").format(name=name, byte=num(e.start))
                        ) from None
    return check_text(text, name)


def check_text(text, name=None):
    """A pasted or uploaded text -> the same text with its line ends made \\n (\\r\\n and \\r,
    as Python's open() reads text files). Raises TextError (one sentence) when it is empty,
    too big, too short, mostly control characters or has more than MAX_VOCAB distinct characters."""
    if not text.strip():
        if name is None:            # pasted
            raise TextError(_("The text is empty: type or paste some text to learn from.") if not text else
                            _("The text has only spaces and line breaks: type or paste some text to learn from."))
        raise TextError((_("{name} is empty: choose some text to learn from.") if not text else
                         _("{name} has only spaces and line breaks: choose some text to learn from.")).format(
            name=name))
    name = name or _("The text")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise TextError(_("{name} has broken characters (lone UTF-16 surrogates) that are not Unicode text: "
                          "copy it again from where it came from.").format(name=name)) from None
    if size > MAX_TEXT_BYTES:
        raise TextError(_("{name} is too big ({mb} MB; at most {most} MB): use a part of it.").format(
            name=name, mb=num(size / 2**20, 1), most=num(MAX_TEXT_BYTES / 2**20)))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    codes = code_points(text)
    controls = int(np.count_nonzero((codes < 32) | ((codes >= 127) & (codes < 160)))) \
        - sum(text.count(c) for c in WHITESPACE_CONTROLS)
    if controls > CONTROL_SHARE * len(text):
        raise TextError(_("{name} does not look like text ({controls} of its {n} characters are "
                          "control characters): choose a .txt file of words.").format(
            name=name, controls=num(controls), n=num(len(text))))
    if len(text) < MIN_CHARS:
        raise TextError(_("{name} is too short ({n} characters; at least {least}): a model needs "
                          "pairs of characters to learn from and some kept apart to test on.").format(
            name=name, n=num(len(text)), least=num(MIN_CHARS)))
    distinct = len(set(text))
    if distinct > MAX_VOCAB:
        raise TextError(_("{name} has {n} different characters; a character model here takes at most "
                          "{most} (its tables have a row and a column for each): use a text in fewer "
                          "scripts.").format(name=name, n=num(distinct), most=num(MAX_VOCAB)))
    return text


@dataclass(frozen=True)
class Prepared:
    """A text ready for a model: training and validation parts kept apart.

    The vocabulary is the *training* part's: the characters a model trained on it
    has seen. A character found only in the validation part is unknown to it:
    val_ids has -1 there, and `unknown` says which characters and how often.
    """
    train: str
    val: str
    vocab: Vocabulary
    train_ids: np.ndarray       # (T_train,) int32, every id known
    val_ids: np.ndarray         # (T_val,) int32, -1 for an unknown character
    unknown: dict               # {character: count in the validation part}, most frequent first


def prepare(text, validation=0.1):
    """Split `text` (its last `validation` fraction held out), build the training
    part's vocabulary and encode both parts."""
    train, val = split(text, validation)
    vocab = Vocabulary.of(train)
    return Prepared(train, val, vocab, vocab.encode(train), vocab.lookup(val), vocab.unknown_counts(val))
