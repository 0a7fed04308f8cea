"""The text side of the language pages, timed on this machine (one thread):

    python bench/bench_language_text.py

encode of tiny Shakespeare (1.1 MB) against a loop per character, the Tokens page's BPE training
(ui/language/tokens.py: BPE_MERGES merges on the first BPE_BYTES bytes), the bigram count table and
the Next character page's network (ui/language/next_char.py: MAX_STEPS full-batch steps). Each figure
is the best of 3 runs; the machine's load is printed with them."""
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from engine.language import bigram, bpe  # noqa: E402
from engine.language.models import build_model  # noqa: E402
from engine.language.text import load_corpus, prepare  # noqa: E402
from engine.optim import Adam  # noqa: E402
from ui.language.next_char import LEARNING_RATE, MAX_STEPS  # noqa: E402
from ui.language.tokens import BPE_BYTES, BPE_MERGES, sample_of  # noqa: E402


def best(f, *args, repeat=3, clock=time.perf_counter):
    times = []
    for _ in range(repeat):
        t = clock()
        f(*args)
        times.append(clock() - t)
    return min(times)


def loop_encode(vocab, text):
    table = vocab.ids()
    return np.fromiter((table[c] for c in text), dtype=np.int32, count=len(text))


def fit(V, N):
    bigram.fit(build_model({"kind": "bigram", "vocab": V}), N, MAX_STEPS, Adam(lr=LEARNING_RATE))


def main():
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    text = load_corpus("shakespeare")
    p = prepare(text)
    print(f"encode 1.1 MB: {best(p.vocab.encode, text) * 1e3:.1f} ms "
          f"(a loop per character: {best(loop_encode, p.vocab, text) * 1e3:.1f} ms)")
    for name in ("names", "shakespeare"):
        p = prepare(load_corpus(name))
        sample = sample_of(p.train)
        t = best(bpe.train, sample, BPE_MERGES)
        cpu = best(bpe.train, sample, BPE_MERGES, clock=time.process_time)
        N = bigram.counts(p.train_ids, p.vocab.size)
        print(f"{name}: BPE {BPE_MERGES} merges on {len(sample.encode()):,} bytes: {t:.2f} s ({cpu:.2f} s CPU); "
              f"count table: {best(bigram.counts, p.train_ids, p.vocab.size) * 1e3:.1f} ms; "
              f"network, {MAX_STEPS} steps: {best(fit, p.vocab.size, N):.2f} s")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
