"""The Train a language model page's default model, trained for a fixed time (issue 23, part 4):
does its sample show recognisable words within 60 s on the bundled corpus, and does the names
model reach a validation loss of 2.2 nats per character within 60 s?

    python bench/bench_language_train.py                         # Shakespeare and names, 60 s each
    python bench/bench_language_train.py --text names --seconds 60 --set k=4

Trains exactly what the page's Start trains (ui/language/train.py settings_from_values, the page's
split and samples), in this process without the worker's line; prints each check's losses and sample,
then the validation loss on the whole validation part. Say the load (uptime) next to the figures.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from engine.language import text as T  # noqa: E402
from engine.language.trainer import new_lm_run  # noqa: E402
from ui.language import train as lm  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--text", choices=("shakespeare", "names", "both"), default="both")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a lesson-link parameter (kind=transformer, k=4, ...) instead of the page's default")
    args = ap.parse_args()
    values, notes = lm.LINK.from_params(dict(s.split("=", 1) for s in args.set))
    if notes:
        raise SystemExit("; ".join(notes))
    for corpus in (("shakespeare", "names") if args.text == "both" else (args.text,)):
        p = T.prepare(T.load_corpus(corpus))
        settings = lm.settings_from_values(values)
        ids, settings.val_fraction = lm._ids(p)
        run = new_lm_run(ids, settings, p.vocab.size, p.vocab)
        print(f"== {corpus}: {run.model.describe()} ({run.model.n_params():,} weights); "
              f"load average {os.getloadavg()[0]:.1f}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}",
              flush=True)
        shown, wall = 0, time.perf_counter()
        while not (run.finished or run.diverged) and run.train_seconds < args.seconds:
            run.run(seconds=min(0.5, args.seconds - run.train_seconds))
            for rec, (_, sample) in zip(run.history.epochs[shown:], run.history.samples[shown:]):
                print(f"step {rec['step']:5d} at {rec['seconds']:5.1f} s of training: train loss "
                      f"{rec['train_loss']:.4f}, val loss {rec['val_loss']:.4f} (on {settings.eval_tokens:,} chars)")
                print("   " + sample.replace("\n", "\n   "), flush=True)
            shown = len(run.history.epochs)
        loss, acc = run.evaluate(max_tokens=0)
        print(f"-> after {run.step} steps, {run.train_seconds:.1f} s of training ({time.perf_counter() - wall:.1f} s "
              f"wall): validation loss {loss:.4f} nats per character on the whole validation part "
              f"({len(run.val_ids):,} characters), top-1 {acc:.1%}; load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
