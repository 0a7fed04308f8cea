"""The command line, run as a user would: python -m engine ..."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DIR"}
    env["DIGITS_CACHE_DIR"] = env.get("CLI_TEST_CACHE", "/nonexistent-cache-for-tests")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model.npz"
    r = cli("train", "--layers", "784,64,10", "--epochs", "2", "--lr", "0.1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "built-in sample" in r.stdout           # it names the dataset it used
    assert re.search(r"^epoch   2 ", r.stdout, re.M)
    acc = float(re.search(r"^test accuracy: (0\.\d{4})$", r.stdout, re.M).group(1))
    assert acc > 0.85
    return out


def test_evaluate_prints_accuracy_table_and_matrix(model):
    r = cli("evaluate", str(model))
    assert r.returncode == 0, r.stderr
    assert re.search(r"^test accuracy: 0\.\d{4}$", r.stdout, re.M)
    assert "precision" in r.stdout and "confusion matrix" in r.stdout
    rows = [l for l in r.stdout.splitlines() if re.match(r"^\s{8}\d(\s+\d+){10}$", l)]
    assert len(rows) == 10
    assert sum(int(v) for l in rows for v in l.split()[1:]) == 2000   # the sample's test set


def test_predict_reads_a_drawn_digit(model, tmp_path):
    from PIL import Image
    # A test digit from the sample, drawn big and off-centre on a black canvas.
    from engine.data import load_sample
    data = load_sample()
    img = data.x_test[0].reshape(28, 28)
    canvas = np.zeros((300, 300), np.uint8)
    canvas[20:20 + 168, 100:100 + 168] = np.kron(img, np.ones((6, 6), np.uint8))
    path = tmp_path / "digit.png"
    Image.fromarray(canvas).save(path)
    r = cli("predict", str(model), str(path))
    assert r.returncode == 0, r.stderr
    assert re.search(rf"^digit: {data.y_test[0]}$", r.stdout, re.M)
    probs = [float(v) for v in re.findall(r"^\s+\d: (\d\.\d{4})", r.stdout, re.M)]
    assert len(probs) == 10 and abs(sum(probs) - 1) < 0.01


@pytest.mark.parametrize("args,fragment", [
    (["train", "--lr", "abc"], "invalid float"),
    (["train", "--layers", "784,x,10"], "comma-separated"),
    (["train", "--lr", "0"], "learning rate"),
    (["train", "--epochs", "0"], "epochs"),
    (["train", "--layers", "784,0,10"], "at least 2 layers of 1 or more"),
    (["train", "--layers", "100,10"], "must start with 784"),
    (["train", "--batch-size", "999999"], "bigger than"),
    (["train", "--activation", "swish"], "invalid choice"),
    (["evaluate", "/no/such/file.npz"], "does not exist"),
    (["evaluate", "README.md"], "not a model file"),
    (["predict", "README.md", "x.png"], "not a model file"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_arguments_give_one_line_and_exit_2(args, fragment):
    r = cli(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and fragment in lines[0], r.stderr


def test_predict_bad_image_and_empty_image(model, tmp_path):
    from PIL import Image
    r = cli("predict", str(model), str(ROOT / "README.md"))
    assert r.returncode == 2 and "not an image" in r.stderr
    blank = tmp_path / "blank.png"
    Image.fromarray(np.zeros((50, 50), np.uint8)).save(blank)
    r = cli("predict", str(model), str(blank))
    assert r.returncode == 2 and "draw" in r.stderr.lower()


def test_diverging_run_says_so_and_saves_nothing(tmp_path):
    out = tmp_path / "m.npz"
    r = cli("train", "--optimizer", "sgd", "--lr", "100", "--epochs", "1", "--out", str(out))
    assert r.returncode == 1
    assert "diverged" in r.stdout and not out.exists()


# ------------------------------------------------------------ a CNN (--cnn)

@pytest.fixture(scope="module")
def cnn_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-cnn") / "cnn.npz"
    r = cli("train", "--cnn", "--filters", "4", "--kernel", "5", "--pool", "2", "--optimizer", "adam",
            "--lr", "0.003", "--epochs", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "training conv 4@5x5 - relu - maxpool 2 - flatten - dense 10" in r.stdout
    acc = float(re.search(r"^test accuracy: (0\.\d{4})$", r.stdout, re.M).group(1))
    assert acc > 0.8
    return out


def test_train_evaluate_and_predict_a_cnn(cnn_model, tmp_path):
    from engine.convnet import ConvNet
    from engine.modelfile import load_model
    net, settings = load_model(cnn_model)
    assert isinstance(net, ConvNet) and settings["layers"] == net.spec()
    r = cli("evaluate", str(cnn_model))
    assert r.returncode == 0, r.stderr
    assert "model: conv 4@5x5" in r.stdout and re.search(r"^test accuracy: 0\.\d{4}$", r.stdout, re.M)
    from PIL import Image
    from engine.data import load_sample
    data = load_sample()
    path = tmp_path / "digit.png"
    Image.fromarray(np.kron(data.x_test[0].reshape(28, 28), np.ones((8, 8), np.uint8))).save(path)
    r = cli("predict", str(cnn_model), str(path))
    assert r.returncode == 0, r.stderr
    assert re.search(r"^digit: \d$", r.stdout, re.M)


@pytest.mark.parametrize("flags,words", [
    (["--padding", "5"], "padding 5 must be smaller than the kernel size 5"),
    (["--filters", "4,x"], "comma-separated integers"),
    (["--kernel", "29"], "nothing left"),
])
def test_impossible_cnn_flags_are_one_line(flags, words):
    r = cli("train", "--cnn", *flags, "--epochs", "1", "--out", "/nonexistent/never.npz")
    assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_help_says_how_to_train_a_cnn():
    r = cli("train", "--help")
    assert "--cnn --filters 16,64 --kernel 5 --pool 2" in " ".join(r.stdout.split())
