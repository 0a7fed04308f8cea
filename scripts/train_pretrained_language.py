"""Rebuild the built-in language model (engine/models/pretrained_lm.npz) with the project's own LMTrainer.

    OPENBLAS_NUM_THREADS=1 python scripts/train_pretrained_language.py [--steps 2000]

A small transformer (2 blocks, 4 heads, width 64, context 64: about 110,000 weights, under 0.5 MB) on the
tiny Shakespeare that ships with the app, seeded: AdamW lr 3e-3 with warm-up and cosine decay to 3e-4,
batch 16 windows of 64 characters, the last 10% of the text held out. The Attention and Inside pages use it
when the session has no language model of its own. Prints the validation loss (nats per character) on the
whole held-out part at the end, and saves it in the file's settings.
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from engine.language.modelfile import save_language_model, settings_of  # noqa: E402
from engine.language.text import Vocabulary, load_corpus  # noqa: E402
from engine.language.trainer import LMSettings, evaluate, new_lm_run  # noqa: E402

OUT = ROOT / "engine" / "models" / "pretrained_lm.npz"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()

    text = load_corpus("shakespeare")
    vocab = Vocabulary.of(text)
    ids = vocab.encode(text)
    s = LMSettings(kind="transformer", context=64, width=64, blocks=2, heads=4, lr=3e-3, min_lr=3e-4,
                   warmup=100, weight_decay=0.1, batch_size=16, steps=args.steps, seed=args.seed,
                   eval_every=250, eval_tokens=15_360)
    run = new_lm_run(ids, s, vocab.size, vocab)
    model = run.model
    print(f"{model.describe()}, {model.n_params():,} weights; {s.steps} steps of batch {s.batch_size}", flush=True)
    start = time.perf_counter()
    while not run.finished:
        report = run.run(batches=s.eval_every)
        if report.diverged:
            print(report.message, "\nthe model was not saved")
            return 1
        for rec in report.epochs_finished:
            print(f"step {rec['step']:5d}  train loss {rec['train_loss']:.4f}  val loss {rec['val_loss']:.4f}  "
                  f"({run.train_seconds:.0f} s of training, {time.perf_counter() - start:.0f} s in all)", flush=True)
    val_loss, val_acc = evaluate(model, run.val_ids, s.sequence, max_tokens=0, part=64)
    print(f"validation loss on the whole held-out part: {val_loss:.4f} nats per character "
          f"(top-1 accuracy {val_acc:.4f})")
    save_language_model(args.out, model, vocab,
                        settings_of(s, val_loss=round(float(val_loss), 4), corpus="Tiny Shakespeare",
                                    step=run.step, train_seconds=round(run.train_seconds, 2)))
    print(f"saved {args.out} ({Path(args.out).stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
