"""Speed against PyTorch eager, side by side on this machine (issue 25 section 1). Prints the ratios.

    MNIST_DIR=../shared/mnist python bench/bench_speed.py [--turns 25] [--blas]

Two networks, each trained by the engine's Trainer and by its PyTorch twin (bridge/twin.py: the same
layers, the same starting weights, torch.optim's Adam / SGD with momentum) on the same mini-batches:
  CNN  conv 16@5x5 - relu - max-pool 2 - conv 64@5x5 - relu - max-pool 2 - dense 10, Adam lr 0.002,
       batch 64: milliseconds a batch;
  MLP  784-128-10 relu, SGD with momentum 0.9, lr 0.1, batch 128: seconds an epoch (60,000 images).
A batch is everything a training loop does: the uint8 images made float, forward, loss, backward,
the optimiser's step (PyTorch: zero_grad, model(x), cross_entropy, backward, step, loss.item()).

Threads. OpenBLAS and PyTorch read their thread counts when they start, so every thread count n runs
in a subprocess of its own. PyTorch: OMP_NUM_THREADS = MKL_NUM_THREADS = n and torch.set_num_threads(n).
Ours: Trainer.threads = n, n slices of each mini-batch worked on at once (engine/fast.py trick 1),
with BLAS on one thread in each (OPENBLAS_NUM_THREADS=1, as the app runs it). So each side has n
threads. --blas: ours the old way instead, one slice and BLAS on n threads (OPENBLAS_NUM_THREADS=n).

Turns. In one process the two take turns (ours, PyTorch's, ours, ...), a turn being --slice batches
of the CNN or one epoch of the MLP; the first batch of each CNN turn is not timed (a pool of threads the
other side left spinning may still hold a core). The figure to trust is the median of the per-turn
ratios: a busy moment of the shared machine hits both sides of a turn.
Alone. Then each side alone, in a subprocess of its own in which the other is never imported (no
OpenMP or OpenBLAS pool of the other side exists at all): the same turns, timed the same way. If the
two ways disagree, the side that loses in turns suffers from the other's idle threads; both are printed.
Same numbers: after the turns, the largest difference between the two sides' weights and both test
accuracies (they trained on the same batches). The load average is printed with every figure.
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

CNN = dict(filters=(16, 64), optimizer="adam", lr=0.002, batch_size=64)
MLP = dict(sizes=(784, 128, 10), optimizer="momentum", lr=0.1, momentum=0.9, batch_size=128)


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def blas_kernels():
    """The kernels NumPy's OpenBLAS runs in this process (its core name: Haswell = AVX2, SkylakeX = AVX-512, ...),
    and whether OPENBLAS_CORETYPE chose them. Our matrix products are OpenBLAS's, so the ratios depend on it."""
    import ctypes
    import numpy  # noqa: F401  (loads OpenBLAS)
    name = "unknown"
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    for path in paths:
        lib = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            if hasattr(lib, symbol):
                getattr(lib, symbol).restype = ctypes.c_char_p
                name = getattr(lib, symbol)().decode()
                break
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return f"OpenBLAS kernels {name}" + (f" (OPENBLAS_CORETYPE={forced} in the environment)" if forced else "")


# ---------------------------------------------------------------- in the subprocess

def setup(kind, threads, blas):
    import numpy as np
    from engine.convnet import cnn_spec
    from engine.data import load_mnist
    from engine.trainer import Settings, new_run
    data = load_mnist()
    if kind == "cnn":
        s = Settings(layers=cnn_spec(filters=CNN["filters"], k=5), optimizer=CNN["optimizer"], lr=CNN["lr"],
                     batch_size=CNN["batch_size"])
    else:
        s = Settings(sizes=MLP["sizes"], activation="relu", optimizer=MLP["optimizer"], lr=MLP["lr"],
                     momentum=MLP["momentum"], batch_size=MLP["batch_size"])
    s.lr_decay, s.val_fraction, s.epochs, s.seed = 1.0, 0.0, 1000, 0     # one learning rate, all 60,000 images
    trainer = new_run(data.x_train, data.y_train, s)
    trainer.threads = 1 if blas else threads
    return np, data, trainer


def our_turn(trainer, batches):
    """Train `batches` batches; returns (seconds, the rows of x they used, in order)."""
    if trainer.order is None:
        trainer._start_epoch()                 # (so that the batches' rows can be read before they are used)
    order, pos = trainer.order, trainer.pos
    start, cpu = time.perf_counter(), time.process_time()
    trainer.run(batches=batches)
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    return seconds, order[pos:pos + batches * trainer.settings.batch_size]


def torch_side(trainer, threads):
    import numpy as np
    import torch
    import torch.nn.functional as F
    from bridge.twin import torch_model, torch_optimizer
    from engine.data import to_float
    torch.set_num_threads(threads)
    model = torch_model(trainer.net)           # the engine's starting weights
    optimizer = torch_optimizer(trainer.settings, model)
    x, labels, size = trainer.x, trainer.labels, trainer.settings.batch_size

    def turn(rows):
        start, cpu = time.perf_counter(), time.process_time()
        for b in range(0, len(rows), size):
            idx = rows[b:b + size]
            xb = torch.from_numpy(to_float(x[idx]))
            yb = torch.from_numpy(labels[idx].astype(np.int64))
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            loss.item()
        return time.perf_counter() - start, time.process_time() - cpu
    return model, turn


def worker(kind, threads, turns, slice_batches, sides, blas):
    np, data, trainer = setup(kind, threads, blas)
    per_turn = slice_batches if kind == "cnn" else trainer.batches_per_epoch
    ours, theirs, model = [], [], None
    if "torch" in sides:
        model, torch_turn = torch_side(trainer, threads)
    warm, size = 1, trainer.settings.batch_size
    rng = np.random.default_rng(0)
    for t in range(turns + warm):
        first = 1 if kind == "cnn" else 0          # CNN: a turn's first batch is not timed, on both sides
        if "ours" in sides:
            _, rows_first = our_turn(trainer, first)
            seconds, rows = our_turn(trainer, per_turn)
            if t >= warm:
                ours.append(seconds)
        else:                                      # PyTorch alone: batches of a shuffled order, as ours
            rows_first, rows = np.split(rng.permutation(len(data.y_train))[:(first + per_turn) * size], [first * size])
        if "torch" in sides:
            torch_turn(rows_first)
            seconds = torch_turn(rows)
            if t >= warm:
                theirs.append(seconds)
    unit = 1e3 / per_turn if kind == "cnn" else 1.0          # ms a batch, or s an epoch
    out = {"kind": kind, "threads": threads, "turns": turns, "load": load()}
    ours, theirs = np.array(ours).reshape(-1, 2), np.array(theirs).reshape(-1, 2)     # (wall, CPU) a turn
    if len(ours):
        out["ours"], out["ours_cpu"] = (np.median(ours, axis=0) * unit).tolist()
    if len(theirs):
        out["torch"], out["torch_cpu"] = (np.median(theirs, axis=0) * unit).tolist()
    if len(ours) and len(theirs):
        out["ratio"], out["cpu_ratio"] = np.median(ours / theirs, axis=0).tolist()
        xt, yt = data.test_float(), data.y_test
        import torch
        with torch.no_grad():
            their_acc = float((model(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean())
        from bridge.twin import weighted
        out["weight_diff"] = max(float(np.max(np.abs(W - m.weight.detach().numpy())))
                                 for W, m in zip(trainer.net.weights, weighted(model)))
        out["acc"] = [float((trainer.net.predict(xt) == yt).mean()), their_acc]
        out["batches"] = trainer.step
    return out


# ---------------------------------------------------------------- the parent

def in_subprocess(kind, threads, turns, slice_batches, sides, blas):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads if blas else 1), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--job", kind, "--worker", str(threads), "--turns", str(turns),
           "--slice", str(slice_batches), "--sides", sides] + (["--blas"] if blas else [])
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--turns", type=int, default=25, help="timed turns of each side (CNN; the MLP does a third)")
    p.add_argument("--slice", type=int, default=10, help="CNN batches a turn (default 10)")
    p.add_argument("--blas", action="store_true", help="ours with BLAS threads instead of slices in threads")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--only", choices=("cnn", "mlp"), default=None)
    p.add_argument("--no-alone", action="store_true", help="only the turns in one process")
    p.add_argument("--job", choices=("cnn", "mlp"), help=argparse.SUPPRESS)
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    p.add_argument("--sides", default="ours,torch", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.job:
        print(json.dumps(worker(a.job, a.worker, a.turns, a.slice, a.sides.split(","), a.blas)))
        return
    import numpy as np
    import torch
    from engine.data import load_mnist
    if load_mnist().is_sample:
        print("This benchmark needs the full MNIST: set MNIST_DIR (e.g. MNIST_DIR=../shared/mnist).")
        return
    print(f"ours (numpy {np.__version__}) against PyTorch {torch.__version__} eager; {os.cpu_count()} cores; "
          f"ours {'with BLAS threads' if a.blas else 'in slices of each batch, one thread each'}; {blas_kernels()}; "
          f"{load()} at the start")
    print("command: " + " ".join(["MNIST_DIR=" + os.environ.get("MNIST_DIR", ""), "python", "bench/bench_speed.py"]
                                 + sys.argv[1:]))
    for kind in ("cnn", "mlp"):
        if a.only and kind != a.only:
            continue
        turns = a.turns if kind == "cnn" else max(3, a.turns // 3)
        what = ("CNN conv 16@5x5 - pool - conv 64@5x5 - pool - dense 10, Adam, batch 64: ms a batch"
                if kind == "cnn" else "MLP 784-128-10, momentum, batch 128: s an epoch")
        fmt = "{:.1f} ms" if kind == "cnn" else "{:.3f} s"
        print(f"\n{what}")
        for threads in (int(t) for t in a.threads.split(",")):
            r = in_subprocess(kind, threads, turns, a.slice, "ours,torch", a.blas)
            print(f"  {threads} thread{'s' * (threads > 1)}, in turns: ours {fmt.format(r['ours'])}, PyTorch "
                  f"{fmt.format(r['torch'])}; ours / PyTorch = {r['ratio']:.2f}x (median of {r['turns']} turns; "
                  f"CPU time {r['cpu_ratio']:.2f}x)  ({r['load']})")
            print(f"    after the same {r['batches']} batches: weights differ by at most {r['weight_diff']:.1e}; "
                  f"test accuracy ours {r['acc'][0]:.2%}, PyTorch {r['acc'][1]:.2%}")
            if not a.no_alone:
                mine = in_subprocess(kind, threads, turns, a.slice, "ours", a.blas)
                theirs = in_subprocess(kind, threads, turns, a.slice, "torch", a.blas)
                print(f"    alone: ours {fmt.format(mine['ours'])} ({mine['load']}), PyTorch "
                      f"{fmt.format(theirs['torch'])} ({theirs['load']}): {mine['ours'] / theirs['torch']:.2f}x")


if __name__ == "__main__":
    main()
