"""Byte-pair encoding (BPE): how GPT-style models cut text into tokens, from scratch.

The algorithm of minbpe's BasicTokenizer (Karpathy, https://github.com/karpathy/minbpe),
itself GPT-2's tokenizer without its regex split into words:

    1. the text becomes its UTF-8 bytes: ids 0..255, one per byte (every text fits);
    2. count every pair of neighbouring ids;
    3. the most frequent pair becomes a new id, 256, 257, ...: each of its
       occurrences, left to right, is replaced by that one id (the text gets shorter);
    4. repeat 2-3 for as many merges as wanted.

The list of merges *is* the tokenizer: encoding a new text replays them
(lowest merge number first), decoding glues each id's bytes back together.
Ties in step 3 go to the pair seen first in the text, as in minbpe.

Speed (the one trick here): ids live in a NumPy array, and each step is a few
whole-array operations: pairs are counted with np.bincount over one integer
key per pair (a * size + b), a merge is one comparison and one np.delete.
No Python loop runs over the text's positions; one loop runs over the merges.
"""
from dataclasses import dataclass, field

import numpy as np

N_BYTES = 256           # ids 0..255 are the bytes themselves


def to_bytes(text):
    """text -> its UTF-8 bytes as ids, (N,) int32 (lone surrogates kept, so any str fits)."""
    return np.frombuffer(text.encode("utf-8", errors="surrogatepass"), dtype=np.uint8).astype(np.int32)


def pair_keys(ids, size):
    """One integer per neighbouring pair (ids[i], ids[i+1]): ids[i] * size + ids[i+1], (N-1,) int64."""
    return ids[:-1].astype(np.int64) * size + ids[1:]


def most_frequent_pair(ids, size):
    """The most frequent neighbouring pair of ids (each id < size) -> ((a, b), count).

    Of pairs with the same count, the one that occurs first in ids (as minbpe's dict does)."""
    keys = pair_keys(ids, size)
    counts = np.bincount(keys)
    top = counts.max()
    tied = np.flatnonzero(counts == top)
    key = tied[0] if len(tied) == 1 else keys[np.argmax(np.isin(keys, tied))]
    return (int(key // size), int(key % size)), int(top)


def merge(ids, pair, new):
    """Every occurrence of `pair` in ids, left to right, replaced by the one id `new`.

    ids (N,) -> (N - occurrences,). For a pair of equal ids, 'a a a' holds one
    occurrence, not two: in a run of overlapping hits only every other one counts,
    starting with the run's first (what a left-to-right loop does)."""
    a, b = pair
    hit = (ids[:-1] == a) & (ids[1:] == b)
    if a == b and hit.any():
        pos = np.arange(len(hit))
        starts = hit & ~np.concatenate(([False], hit[:-1]))
        run_start = np.maximum.accumulate(np.where(starts, pos, 0))
        hit &= (pos - run_start) % 2 == 0
    where = np.flatnonzero(hit)
    out = ids.copy()
    out[where] = new
    return np.delete(out, where + 1)


@dataclass
class BPE:
    """A trained tokenizer: merges[i] = (a, b) made id 256 + i.

    From training, kept to show it merge by merge: counts[i] = how often the pair
    occurred when it was merged, lengths[i] = tokens in the training text after
    i merges (lengths[0] = its bytes)."""
    merges: list = field(default_factory=list)
    counts: list = field(default_factory=list)
    lengths: list = field(default_factory=list)

    @property
    def size(self):
        """The number of tokens: 256 bytes + one per merge."""
        return N_BYTES + len(self.merges)

    def first(self, k):
        """The tokenizer after its first k merges."""
        return BPE(self.merges[:k], self.counts[:k], self.lengths[:k + 1])

    def token_bytes(self):
        """The bytes each token stands for: a list of `size` bytes objects."""
        vocab = [bytes([i]) for i in range(N_BYTES)]
        for a, b in self.merges:
            vocab.append(vocab[a] + vocab[b])
        return vocab

    def encode(self, text):
        """text -> token ids, (n,) int32: the merges replayed on its bytes, lowest merge number first."""
        ids = to_bytes(text)
        if not self.merges or len(ids) < 2:
            return ids
        merge_keys = np.array([a * self.size + b for a, b in self.merges], dtype=np.int64)
        order = np.argsort(merge_keys)
        sorted_keys = merge_keys[order]
        while len(ids) >= 2:
            keys = pair_keys(ids, self.size)
            at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
            rank = np.where(sorted_keys[at] == keys, order[at], len(self.merges))
            i = int(rank.min())
            if i == len(self.merges):           # no pair left that a merge makes
                break
            ids = merge(ids, self.merges[i], N_BYTES + i)
        return ids

    def decode(self, ids):
        """token ids -> text. Ids that end inside a character (a token can hold part of
        one) show the Unicode replacement character � there."""
        data = self.decode_bytes(ids)
        try:
            return data.decode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError:
            return data.decode("utf-8", errors="replace")

    def decode_bytes(self, ids):
        """token ids -> the bytes they stand for, gathered in one NumPy indexing."""
        vocab = self.token_bytes()
        lengths = np.array([len(v) for v in vocab], dtype=np.int64)
        flat = np.frombuffer(b"".join(vocab), dtype=np.uint8)
        starts = np.cumsum(lengths) - lengths
        ids = np.asarray(ids, dtype=np.int64)
        n = lengths[ids]
        before = np.repeat(np.cumsum(n) - n, n)          # where each token's bytes start in the output
        index = np.repeat(starts[ids], n) + np.arange(int(n.sum())) - before
        return flat[index].tobytes()


def train(text, n_merges):
    """Train a BPE tokenizer on text with (at most) n_merges merges; stops early when
    no pair occurs twice (merging a pair seen once saves nothing worth a token)."""
    ids = to_bytes(text)
    bpe = BPE(lengths=[len(ids)])
    for i in range(n_merges):
        if len(ids) < 2:
            break
        pair, count = most_frequent_pair(ids, N_BYTES + n_merges)
        if count < 2:
            break
        ids = merge(ids, pair, N_BYTES + i)
        bpe.merges.append(pair)
        bpe.counts.append(count)
        bpe.lengths.append(len(ids))
    return bpe


def token_text(data):
    """The bytes of a token, readable: a space as ␣, a line break as ↵, a tab as ⇥, and
    bytes that are not a whole UTF-8 character as \\xNN."""
    text = data.decode("utf-8", errors="backslashreplace")
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")
