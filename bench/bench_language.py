"""Benchmark of the language-model engine against PyTorch eager, on this machine.

    python bench/bench_language.py                 all three parts
    python bench/bench_language.py --part speed    1. a training step, ours vs PyTorch's, in alternating blocks
    python bench/bench_language.py --part speed --alone     ... and each side alone in a process of its own
    python bench/bench_language.py --part train    2. validation loss reached within --seconds of training
    python bench/bench_language.py --part cache    3. 500 characters with and without the key/value cache
    python bench/bench_language.py --part idle     why not step-by-step turns: CPU burned by idle threads

The model is nanoGPT's CPU "baby GPT": 4 blocks, 4 heads, width 128, context 64, batch 12, AdamW
1e-3 with warm-up and cosine decay to 1e-4 over 2000 steps, gradient clipping at 1, no dropout,
on tiny Shakespeare (the app's copy, 10% held out). PyTorch runs the same model with the same
weights (bridge/language_twin.py), eager (no torch.compile).

Threads, honestly: OpenBLAS reads OPENBLAS_NUM_THREADS once, when NumPy is imported, so every
thread count runs in a subprocess of its own started with OMP_NUM_THREADS = MKL_NUM_THREADS = n and
torch.set_num_threads(n) in it. Ours runs as the app runs it: BLAS on one thread (OPENBLAS_NUM_THREADS=1)
and the trainer's batch cut into slices worked on in n threads (LMTrainer.threads = n, engine/fast.py
trick 1). --blas: ours the old way instead, BLAS and speed trick 9's blocks on n threads
(OPENBLAS_NUM_THREADS=n), one thread of slices. Generating (--part cache) has one sequence and no slices:
BLAS on --threads threads.

Side by side, fairly. Both sides run in one process, so that a busy moment of the shared machine hits
both. They do NOT take turns step by step: with 2 threads that is unfair. A thread pool that has just
worked keeps its idle threads spinning for a while, waiting for more work, and a spinning thread holds
a core: OpenBLAS's (NumPy's) for up to 2^28 processor cycles after its last call (its THREAD_TIMEOUT,
about 0.1 s; OPENBLAS_THREAD_TIMEOUT=4 makes it 16 cycles), PyTorch's OpenMP threads for a shorter
time (GOMP_SPINCOUNT). On 2 cores a PyTorch step started right after one of ours finds one core taken
by OpenBLAS's spinning thread, and its two OpenMP threads, which wait for each other at the end of every
operation, share the other one: in turns on a quiet machine (load 0.1-0.5) PyTorch's 2-thread step took
119.5 ms, where the issue measured 31.5 ms for it alone. --part idle shows the spinning: the CPU time a
process burns while it rests just after a step (a busy machine gives the spinning threads less of a
core, so it shows less there). So the sides run in alternating blocks of BLOCK steps, and each block
starts after PAUSE seconds of rest, when the other side's threads have long gone to sleep; which side
goes first alternates from round to round. Within its block each side runs as it would alone, with its
own defaults. Figures: the median step of each side (and their ratio), and the median of the rounds'
ratios (each round: the median step of each side's block). --method turns keeps the old way, to show
the effect; --alone also times each side alone in a process of its own. The load average
(os.getloadavg) is printed next to every figure.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_LOSS = 1.85


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def setup(schedule=None):
    """(numpy, vocabulary, settings, an LMTrainer of the baby GPT) with LMTrainer.threads from BENCH_THREADS."""
    import numpy as np
    from engine.language.models import build_model
    from engine.language.text import Vocabulary, load_corpus
    from engine.language.trainer import LMSettings, LMTrainer
    text = load_corpus("shakespeare")
    vocab = Vocabulary.of(text)
    s = LMSettings()                      # the defaults are the baby GPT's
    if schedule:
        s.steps = schedule                # the cosine decay's length (nanoGPT's: 2000 steps)
    model = build_model(s.spec(vocab.size), seed=0)
    run = LMTrainer(model, vocab.encode(text), s, vocab)
    run.threads = int(os.environ.get("BENCH_THREADS", "1"))     # slices in threads (1 with --blas)
    return np, vocab, s, run


# ---------------------------------------------------------------- 1. a step, in alternating blocks
BLOCK = 5          # steps of one side in a row
PAUSE = 0.5        # seconds of rest before each block: the other side's idle threads stop spinning (see the doc)


def worker_speed(threads, rounds, method="blocks"):
    """rounds steps of each side. method "blocks": BLOCK steps of ours, then BLOCK of PyTorch's (which goes
    first alternates), each block after PAUSE s of rest; "turns": one step each, back to back (the old
    method, kept to show why it is unfair with 2 threads)."""
    import torch
    torch.set_num_threads(threads)
    np, _, s, run = setup()
    from bridge.language_twin import torch_adamw, torch_step, torch_transformer
    from engine.language.trainer import learning_rate
    twin = torch_transformer(run.model)
    opt = torch_adamw(twin, s)
    rng = np.random.default_rng(0)
    batches = [run.batch(run.train_ids, s.batch_size, rng) for _ in range(rounds + 5)]
    tbatches = [(torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64))) for x, y in batches]

    def ours(i):
        run.train_batch(*batches[i])
        run.step += 1

    def theirs(i):
        torch_step(twin, opt, *tbatches[i], learning_rate(s, i), s.grad_clip)

    times = {ours: [], theirs: []}
    for i in range(5):                                    # warm-up, not counted
        ours(i)
        theirs(i)
    todo = list(range(5, rounds + 5))
    if method == "turns":
        blocks = [(side, [i]) for i in todo for side in (ours, theirs)]
    else:
        cuts = [todo[k:k + BLOCK] for k in range(0, len(todo), BLOCK)]
        blocks = [(side, part) for r, part in enumerate(cuts) for side in ((ours, theirs) if r % 2 == 0
                                                                           else (theirs, ours))]
    for side, steps in blocks:
        if method == "blocks":
            time.sleep(PAUSE)
        for i in steps:
            start = time.perf_counter()
            side(i)
            times[side].append(time.perf_counter() - start)
    a, b = np.array(times[ours]), np.array(times[theirs])
    if method == "blocks":             # per round: the median step of each side's block
        n = len(a) // BLOCK * BLOCK
        per_round = np.median(a[:n].reshape(-1, BLOCK), 1) / np.median(b[:n].reshape(-1, BLOCK), 1)
    else:
        per_round = a / b
    return {"threads": threads, "ours_ms": 1e3 * float(np.median(a)), "torch_ms": 1e3 * float(np.median(b)),
            "ratio": float(np.median(a) / np.median(b)), "round_ratio": float(np.median(per_round)),
            "rounds": rounds, "method": method, "load": load()}


def worker_idle(threads, rest=0.3):
    """CPU seconds this process burns while it sleeps `rest` s right after a training step of each side: its idle
    threads' spin-waiting (the least of 3 tries; 0 when the idle threads sleep at once)."""
    import torch
    torch.set_num_threads(threads)
    np, _, s, run = setup()
    from bridge.language_twin import torch_adamw, torch_step, torch_transformer
    twin = torch_transformer(run.model)
    opt = torch_adamw(twin, s)
    x, y = run.batch(run.train_ids, s.batch_size, np.random.default_rng(0))
    tx, ty = torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64))
    work = {"ours": lambda: run.train_batch(x, y), "torch": lambda: torch_step(twin, opt, tx, ty, 1e-3, 1.0)}
    burned = {}
    for side, step in work.items():
        tries = []
        for _ in range(3):
            step()
            start = time.process_time()
            time.sleep(rest)
            tries.append(time.process_time() - start)
        burned[side] = min(tries)
    return {"threads": threads, "rest": rest, **burned, "load": load(),
            "env": {k: os.environ.get(k) for k in ("OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY")}}


def worker_alone(threads, rounds, side):
    """One side only (no other framework's steps in this process): rounds steps, their median in ms."""
    import torch
    torch.set_num_threads(threads)
    np, _, s, run = setup()
    rng = np.random.default_rng(0)
    if side == "torch":
        from bridge.language_twin import torch_adamw, torch_step, torch_transformer
        from engine.language.trainer import learning_rate
        twin = torch_transformer(run.model)
        opt = torch_adamw(twin, s)
    times = []
    for i in range(rounds + 5):
        x, y = run.batch(run.train_ids, s.batch_size, rng)
        start = time.perf_counter()
        if side == "torch":
            torch_step(twin, opt, torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64)),
                       learning_rate(s, i), s.grad_clip)
        else:
            run.train_batch(x, y)
            run.step += 1
        if i >= 5:
            times.append(time.perf_counter() - start)
    return {"threads": threads, "side": side, "ms": 1e3 * float(np.median(times)), "rounds": rounds, "load": load()}


# ---------------------------------------------------------------- 2. loss within a time budget
def worker_train(seconds, max_steps, schedule=None):
    np, vocab, s, run = setup(schedule)
    from engine.language.generate import generate
    from engine.language.trainer import evaluate
    trained, evals, reached = 0.0, [], None
    while run.step < max_steps and trained < seconds:
        x, y = run.batch(run.train_ids, s.batch_size, run.rng)
        start = time.perf_counter()
        run.train_batch(x, y)
        trained += time.perf_counter() - start
        run.step += 1
        if run.step % 250 == 0:           # nanoGPT's eval interval; the evaluation's time is not training time
            loss = run.evaluate()[0]      # 15,360 held-out characters, as nanoGPT's CPU run (20 x 12 x 64)
            evals.append((run.step, round(trained, 1), round(loss, 4)))
            if reached is None and loss <= TARGET_LOSS:
                reached = (run.step, round(trained, 1))
            print(f"  step {run.step}: {trained:.1f} s of training, held-out loss {loss:.4f}  ({load()})",
                  file=sys.stderr, flush=True)
    full = evaluate(run.model, run.val_ids, s.sequence)[0]      # every held-out character
    text = vocab.decode(generate(run.model, vocab.encode("\n"), 300, seed=0))
    out = {"steps": run.step, "seconds": round(trained, 1), "val_loss_all": round(full, 4), "evals": evals,
           "reached": reached, "sample": text, "load": load()}
    out.update(cache_figures(run.model, vocab))
    return out


# ---------------------------------------------------------------- 3. the key/value cache
def cache_figures(model, vocab, n=500, tries=5):
    from engine.language.generate import cache_speed
    r = cache_speed(model, vocab.encode("\n"), n, tries=tries)      # the fastest of 5 each, in turns
    return {"cache_s": r["cache_s"], "no_cache_s": r["no_cache_s"], "cache_speedup": r["speedup"],
            "cache_identical": r["identical"], "cache_chars": n, "cache_load": load()}


def worker_cache():
    np, vocab, s, run = setup()
    return cache_figures(run.model, vocab)


# ---------------------------------------------------------------- the parent
def in_subprocess(threads, *args, blas=False):
    """A job in a process of its own with n threads: PyTorch's, and ours in slices (BLAS on one thread), or
    with blas=True ours on n BLAS threads and one thread of slices."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads if blas else 1), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), BENCH_THREADS=str(1 if blas else threads))
    out = subprocess.run([sys.executable, __file__, "--worker", str(threads), *args], env=env, stdout=subprocess.PIPE,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--part", choices=("all", "speed", "train", "cache", "idle"), default="all")
    p.add_argument("--method", choices=("blocks", "turns"), default="blocks",
                   help="speed: alternating blocks of steps after a rest (fair), or step-by-step turns (unfair "
                        "with 2 threads: each side's spinning idle threads slow the other; kept to show it)")
    p.add_argument("--alone", action="store_true",
                   help="speed: also time each side alone, each in a process of its own")
    p.add_argument("--rounds", type=int, default=30, help="speed: steps of each side (counted; 5 more warm up)")
    p.add_argument("--seconds", type=float, default=120.0, help="train: seconds of training")
    p.add_argument("--max-steps", type=int, default=2000, help="train: at most this many steps")
    p.add_argument("--threads", type=int, default=2, help="train and cache: threads")
    p.add_argument("--blas", action="store_true",
                   help="ours with BLAS threads instead of slices of the batch in threads (the old way)")
    p.add_argument("--schedule", type=int, default=2000,
                   help="train: steps of the cosine learning-rate decay (nanoGPT's baby GPT: 2000)")
    p.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--job", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker is not None:
        job = {"speed": lambda: worker_speed(a.worker, a.rounds, a.method),
               "idle": lambda: worker_idle(a.worker),
               "ours": lambda: worker_alone(a.worker, a.rounds, "ours"),
               "torch": lambda: worker_alone(a.worker, a.rounds, "torch"),
               "train": lambda: worker_train(a.seconds, a.max_steps, a.schedule), "cache": worker_cache}[a.job]
        print(json.dumps(job()))
        return
    print(f"baby GPT on tiny Shakespeare; {os.cpu_count()} cores; ours "
          f"{'with BLAS threads' if a.blas else 'in slices of each batch, one thread each, BLAS on one'}; "
          f"{load()} at the start")
    if a.part in ("all", "speed"):
        how = (f"in alternating blocks of {BLOCK} steps, each after {PAUSE:g} s of rest" if a.method == "blocks"
               else "in step-by-step turns")
        print(f"\n1. one training step (forward, backward, clipping, AdamW), ours and PyTorch eager's {how}")
        for threads in (1, 2):
            r = in_subprocess(threads, "--job", "speed", "--rounds", str(a.rounds), "--method", a.method,
                              blas=a.blas)
            print(f"   {threads} thread{'s' * (threads > 1)}: ours {r['ours_ms']:.1f} ms, "
                  f"PyTorch {r['torch_ms']:.1f} ms (medians of {r['rounds']} steps each): {r['ratio']:.2f} x; "
                  f"median of the rounds' ratios {r['round_ratio']:.2f} x  ({r['load']})")
            if a.alone:
                for side in ("ours", "torch"):
                    r = in_subprocess(threads, "--job", side, "--rounds", str(a.rounds), blas=a.blas)
                    print(f"      {side} alone in its process: {r['ms']:.1f} ms (median of {r['rounds']})  "
                          f"({r['load']})")
    if a.part == "idle":
        print("\n0. CPU time burned while resting 0.3 s right after a step of each side, 2 threads (idle threads "
              "spinning)")
        r = in_subprocess(2, "--job", "idle", blas=True)
        print(f"   after ours (OpenBLAS) {r['ours'] * 1e3:.0f} ms, after PyTorch's (OpenMP) {r['torch'] * 1e3:.0f} ms  "
              f"({r['load']})")
    if a.part in ("all", "train"):
        print(f"\n2. training for {a.seconds:g} s (at most {a.max_steps} steps, learning rate decaying over "
              f"{a.schedule} steps), {a.threads} threads")
        r = in_subprocess(a.threads, "--job", "train", "--seconds", str(a.seconds), "--max-steps", str(a.max_steps),
                          "--schedule", str(a.schedule), blas=a.blas)
        for step, sec, loss in r["evals"]:
            print(f"   step {step:5d}  {sec:6.1f} s  held-out loss {loss:.4f} (15,360 characters)")
        print(f"   after {r['steps']} steps, {r['seconds']} s of training: held-out loss {r['val_loss_all']:.4f} nats "
              f"per character on all the held-out text  ({r['load']})")
        print("   target <= %.2f: %s" % (TARGET_LOSS, f"reached at step {r['reached'][0]}, {r['reached'][1]} s"
                                          if r["reached"] else "not reached"))
        print("   sample: " + r["sample"][:300].replace("\n", "\n           "))
        print_cache(r)
    elif a.part == "cache":
        print_cache(in_subprocess(a.threads, "--job", "cache", blas=True), note=" (untrained weights)")


def print_cache(r, note=""):
    print(f"\n3. {r['cache_chars']} characters{note} (fastest of 5 each): with the key/value cache "
          f"{r['cache_s']:.2f} s, without {r['no_cache_s']:.2f} s: {r['cache_speedup']:.1f} x faster; "
          f"same text: {r['cache_identical']}  ({r['cache_load']})")


if __name__ == "__main__":
    main()
