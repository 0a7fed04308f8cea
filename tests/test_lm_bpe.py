"""engine/language/bpe.py: the byte-pair-encoding trainer, checked against a worked example by
hand, against minbpe's BasicTokenizer loop written out in plain Python, and round trips on
hostile Unicode."""
import numpy as np
import pytest

from engine.language import bpe
from engine.language.text import load_corpus

HOSTILE = [
    "", "a", "aaaa", "aaaaa", "ab" * 50,
    "naïve café — 東京 😀👩‍👩‍👧 e\u0301 \u202eRTL\u202c\tend\n",
    "\x00\x01\x7f\u0085\ufeff\ufffd\U0010ffff",
    "\ud800 lone surrogates \udfff",          # not UTF-8, but a Python str: kept (surrogatepass)
    "🇫🇷🇫🇷🇫🇷 flags, ZWJ 🧑🏽‍💻🧑🏽‍💻, combining a\u0300\u0301\u0302",
]


def reference_train(text, n_merges):
    """minbpe's BasicTokenizer.train, as its loop reads (get_stats, max, merge)."""
    ids = list(text.encode("utf-8", errors="surrogatepass"))
    merges, counts = [], []
    for i in range(n_merges):
        stats = {}
        for pair in zip(ids, ids[1:]):
            stats[pair] = stats.get(pair, 0) + 1
        if not stats:
            break
        pair = max(stats, key=stats.get)
        new, out, j = 256 + i, [], 0
        while j < len(ids):
            if j < len(ids) - 1 and (ids[j], ids[j + 1]) == pair:
                out.append(new)
                j += 2
            else:
                out.append(ids[j])
                j += 1
        ids = out
        merges.append(pair)
        counts.append(stats[pair])
    return merges, counts, ids


def test_the_worked_example_by_hand():
    # "aaabdaaabac": aa occurs 4 times (twice in each aaa), so aa -> 256 ("ZabdZabac", each aaa
    # gives Z a, left to right); then Za and ab tie at 2, Za comes first -> 257 ("YbdYbac");
    # then Yb (2) -> 258: "XdXac" = [258, 100, 258, 97, 99] (minbpe's README has the same).
    tok = bpe.train("aaabdaaabac", 3)
    assert tok.merges == [(97, 97), (256, 97), (257, 98)]
    assert tok.counts == [4, 2, 2] and tok.lengths == [11, 9, 7, 5]
    assert tok.encode("aaabdaaabac").tolist() == [258, 100, 258, 97, 99]
    assert tok.token_bytes()[258] == b"aaab"
    assert tok.decode([258, 100, 258, 97, 99]) == "aaabdaaabac"
    assert tok.first(1).encode("aaabdaaabac").tolist() == [256, 97, 98, 100, 256, 97, 98, 97, 99]


@pytest.mark.parametrize("a_run", [2, 3, 4, 5, 7])
def test_a_run_of_one_byte_merges_left_to_right(a_run):
    ids = np.array([1] + [7] * a_run + [2], dtype=np.int32)
    out = bpe.merge(ids, (7, 7), 300).tolist()
    assert out == [1] + [300] * (a_run // 2) + [7] * (a_run % 2) + [2]


@pytest.mark.parametrize("text, n_merges", [
    (HOSTILE[5] * 7, 60),
    ("aaaaaaaabbbbbbbaaaabab" * 9, 30),
    (load_corpus("names")[:3000], 80),
    (load_corpus("shakespeare")[:4000], 80),
])
def test_training_makes_minbpes_merges(text, n_merges):
    tok = bpe.train(text, n_merges)
    merges, counts, ids = reference_train(text, n_merges)
    k = len(tok.merges)
    assert tok.merges == merges[:k] and tok.counts == counts[:k]
    # It stops only where the next pair would occur once (merging it saves nothing).
    assert k == n_merges or counts[k] == 1
    if k == n_merges:
        assert tok.encode(text).tolist() == ids
        assert tok.lengths[-1] == len(ids)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_unicode_round_trips(text):
    tok = bpe.train(text * 3 + load_corpus("names")[:500], 40)
    for s in (text, text * 2 + "zz", text[::-1]):
        ids = tok.encode(s)
        assert tok.decode(ids) == s
        assert tok.decode_bytes(ids) == s.encode("utf-8", errors="surrogatepass")


def test_a_token_cut_inside_a_character_decodes_with_a_replacement_mark():
    tok = bpe.BPE()
    assert tok.decode([0xC3]) == "\ufffd"           # the first byte of é alone
    assert bpe.token_text(b"\xc3") == "\\xc3" and bpe.token_text(b" the\n") == "␣the↵"


def test_the_page_bound_trains_in_about_a_second():
    """The Tokens page trains on at most this much text with this many merges (ui/language)."""
    import time
    from ui.language.tokens import BPE_BYTES, BPE_MERGES
    text = load_corpus("shakespeare")
    t = time.process_time()                    # CPU time: other engineers' processes do not count
    tok = bpe.train(text[:BPE_BYTES], BPE_MERGES)
    assert len(tok.merges) == BPE_MERGES
    assert time.process_time() - t < 2.0       # ~0.7 s on an idle core of this machine
