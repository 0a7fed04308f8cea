"""engine/language/text.py: the vocabulary's vectorised encode/decode, unknown characters,
the user's own text (one sentence for each bad upload) and the training/validation split."""
import time

import numpy as np
import pytest

from engine.language import text as T
from engine.language.text import TextError, Vocabulary, check_text, prepare, read_text_file

HOSTILE = "naïve café — 東京 😀👩‍👩‍👧 e\u0301 \u202eRTL\u202c \ud800 \t\x0c end"


def loop_encode(vocab, s):
    """The definition: one dict look-up per character."""
    table = vocab.ids()
    return np.array([table.get(c, -1) for c in s], dtype=np.int32)


def test_encode_is_the_per_character_lookup_and_decode_inverts_it():
    vocab = Vocabulary.of(HOSTILE)
    assert vocab.chars == tuple(sorted(set(HOSTILE)))
    ids = vocab.encode(HOSTILE)
    assert ids.dtype == np.int32 and ids.shape == (len(HOSTILE),)
    np.testing.assert_array_equal(ids, loop_encode(vocab, HOSTILE))
    assert vocab.decode(ids) == HOSTILE
    assert vocab.decode([]) == ""


def test_unknown_characters_are_counted_shown_and_refused_or_replaced():
    vocab = Vocabulary.of("abc ")
    s = "a😀b é😀 zz\U0010ffff"
    np.testing.assert_array_equal(vocab.lookup(s), loop_encode(vocab, s))
    assert vocab.unknown_counts(s) == {"😀": 2, "z": 2, "é": 1, "\U0010ffff": 1}
    assert list(vocab.unknown_counts(s))[:2] == ["z", "😀"]          # most frequent first, ties in code order
    assert vocab.unknown_chars(s) == sorted("😀zé\U0010ffff")
    with pytest.raises(ValueError, match="never seen 4"):
        vocab.encode(s)
    filled = vocab.encode(s, unknown=" ")
    assert vocab.decode(filled) == "".join(c if c in "abc " else " " for c in s)
    assert Vocabulary.of("").lookup("ab").tolist() == [-1, -1]


def test_the_corpus_encodes_in_milliseconds_not_a_loop_per_character():
    corpus = T.load_corpus("shakespeare")
    vocab = Vocabulary.of(corpus)
    vocab.encode(corpus[:100])               # the table is built once
    # Timed against the per-character loop in the same moment, so a busy machine slows both.
    best = min(_timed(vocab.encode, corpus) for _ in range(5))
    loop = min(_timed(loop_encode, vocab, corpus[:100_000]) for _ in range(2)) * len(corpus) / 100_000
    assert best < loop / 2.5, f"encode took {best * 1e3:.1f} ms, a loop per character {loop * 1e3:.1f} ms"
    assert vocab.decode(vocab.encode(corpus)) == corpus


def _timed(f, *args):
    t = time.perf_counter()
    f(*args)
    return time.perf_counter() - t


def test_the_shipped_corpora_are_as_their_readme_says():
    shakespeare, names = T.load_corpus("shakespeare"), T.load_corpus("names")
    assert len(shakespeare) == 1_115_394 and Vocabulary.of(shakespeare).size == 65
    assert len(names.split()) == 32_033 and Vocabulary.of(names).size == 27
    with pytest.raises(ValueError, match="no text called"):
        T.load_corpus("../etc/passwd")


# ------------------------------------------------------------------ the user's own text
GOOD = "The quick brown fox jumps over the lazy dog.\n"


@pytest.mark.parametrize("data, words", [
    (b"", "is empty (0 bytes)"),
    (b"x" * (T.MAX_TEXT_BYTES + 1), "is too big (2.0 MB; at most 2 MB)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a text file (it has zero bytes"),
    ("hello world, this is UTF-16".encode("utf-16"), "is not a text file (it has zero bytes"),
    ("café au lait, s'il vous plaît".encode("latin-1"), "is not UTF-8 text (byte 3 cannot"),
    (b"\xff\xfe\xfd" * 20, "is not UTF-8 text (byte 0 cannot"),
    (b"   \n\n\t  ", "has only spaces and line breaks"),
    (b"short", "is too short (5 characters; at least 20)"),
    (bytes(range(1, 32)) * 3 + b"some words", "does not look like text"),
    ("".join(map(chr, range(0x4E00, 0x4E00 + T.MAX_VOCAB + 1))).encode(), f"has {T.MAX_VOCAB + 1} different"),
])
def test_a_bad_file_gets_one_sentence(data, words):
    with pytest.raises(TextError) as e:
        read_text_file(data, "notes.txt")
    message = str(e.value)
    assert message.startswith("notes.txt ") and words in message, message
    assert message.count(". ") == 0 and message.endswith("."), "one sentence"


def test_a_good_file_is_read_with_its_bom_dropped_and_line_ends_as_python_reads_them():
    assert read_text_file(GOOD.encode()) == GOOD
    assert read_text_file(b"\xef\xbb\xbf" + GOOD.encode()) == GOOD
    windows = GOOD.replace("\n", "\r\n") * 2 + "old mac\rline"
    assert read_text_file(windows.encode()) == GOOD * 2 + "old mac\nline"
    hostile = HOSTILE.replace("\ud800", "") * 2                         # a lone surrogate is no UTF-8
    assert read_text_file(hostile.encode()) == hostile
    big = ("a" * 99 + "\n") * (T.MAX_TEXT_BYTES // 100)
    assert read_text_file(big.encode()) == big                       # exactly at the limit is fine


def test_pasted_text_is_checked_the_same_way():
    assert check_text(GOOD) == GOOD
    for text, words in [("", "The text is empty"), ("ab\ud800cd" * 10, "lone UTF-16 surrogates"),
                        ("é" * (T.MAX_TEXT_BYTES // 2 + 1), "is too big")]:
        with pytest.raises(TextError, match=words):
            check_text(text)


def test_prepare_keeps_validation_apart_and_reports_what_training_never_saw():
    text = "abcabcabcabcabcabcab" + "abxyzx"
    p = prepare(text, validation=0.2)
    assert p.train + p.val == text and len(p.val) == round(len(text) * 0.2)
    assert p.vocab.chars == tuple(sorted(set(p.train)))
    assert p.unknown == {"x": 2, "y": 1, "z": 1}
    assert p.val_ids.tolist() == [p.vocab.ids().get(c, -1) for c in p.val]
    assert p.vocab.decode(p.train_ids) == p.train


def test_names_come_shuffled_so_the_validation_tenth_is_like_the_rest():
    """names.txt lists popular names first and rare ones last: held out as it is, the validation
    part would be rare names only. The corpus comes in one fixed shuffled order, the same names."""
    from engine.language.text import CORPORA, CORPUS_DIR, load_corpus, split
    in_file = (CORPUS_DIR / CORPORA["names"]).read_text(encoding="utf-8").split()
    text = load_corpus("names")
    assert text == load_corpus("names")                       # one fixed order
    assert sorted(text.split()) == sorted(in_file)            # the same names, none lost
    rank = {n: i for i, n in enumerate(in_file)}              # 0 = the most popular name
    _, val = split(text)
    held_out = [rank[n] for n in val.split() if n in rank]
    mean_rank = sum(held_out) / len(held_out) / len(in_file)
    assert 0.4 < mean_rank < 0.6, f"held-out names' mean popularity rank {mean_rank:.2f} of the list"
