"""Tests for engine/data.py: IDX/npz reading, download, fallbacks, the sample.

Downloads are tested against a real HTTP server on 127.0.0.1; nothing here
touches the internet. Tests using the full MNIST run only where it exists
(env MNIST_DIR, or ../shared/mnist next to the repository).
"""
import gzip
import hashlib
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from engine import data  # noqa: E402
from engine.data import DataError, load_mnist, load_sample, read_idx, read_npz_mnist  # noqa: E402

MNIST_DIR = Path(os.environ.get("MNIST_DIR") or Path(__file__).resolve().parents[2] / "shared" / "mnist")
HAVE_MNIST = all((MNIST_DIR / (name + ".gz")).is_file() or (MNIST_DIR / name).is_file() for name in data.FILES)
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason=f"full MNIST not found at {MNIST_DIR}")

# From the README of the shared MNIST copy.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ------------------------------------------------------------ helpers

def idx_bytes(array):
    """The IDX encoding of a uint8 array (magic 0x0800 + ndim, big-endian sizes, data)."""
    header = (0x0800 + array.ndim).to_bytes(4, "big")
    header += b"".join(size.to_bytes(4, "big") for size in array.shape)
    return header + array.astype(np.uint8).tobytes()


def fake_images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def fake_labels(n):
    return (np.arange(n) % 10).astype(np.uint8)


def write_mnist_folder(folder, n_train=5, n_test=3, gz=True, overrides=None):
    """Write the four official file names with tiny synthetic content.

    overrides: {name: bytes} to replace a file's (uncompressed) content.
    """
    folder.mkdir(parents=True, exist_ok=True)
    contents = {
        "train-images-idx3-ubyte": idx_bytes(fake_images(n_train)),
        "train-labels-idx1-ubyte": idx_bytes(fake_labels(n_train)),
        "t10k-images-idx3-ubyte": idx_bytes(fake_images(n_test, seed=1)),
        "t10k-labels-idx1-ubyte": idx_bytes(fake_labels(n_test)),
    }
    contents.update(overrides or {})
    for name, content in contents.items():
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)
    return folder


def closed_port():
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ read_idx

@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_valid(tmp_path, gz):
    images, labels = fake_images(7), fake_labels(7)
    for name, array in [("img", images), ("lab", labels)]:
        content = idx_bytes(array)
        (tmp_path / name).write_bytes(gzip.compress(content) if gz else content)
    got_images, got_labels = read_idx(tmp_path / "img"), read_idx(tmp_path / "lab")
    assert got_images.dtype == np.uint8 and got_images.shape == (7, 28, 28)
    assert np.array_equal(got_images, images)
    assert got_labels.shape == (7,) and np.array_equal(got_labels, labels)


@pytest.mark.parametrize("content, fragments", [
    (idx_bytes(fake_images(3))[:-1], ["truncated", "(3, 28, 28)"]),
    (idx_bytes(fake_images(3)) + b"\0", ["extra bytes"]),
    # header says 4 labels, 5 are there; header says 6, 5 are there
    ((0x801).to_bytes(4, "big") + (4).to_bytes(4, "big") + bytes(5), ["extra bytes", "(4,)"]),
    ((0x801).to_bytes(4, "big") + (6).to_bytes(4, "big") + bytes(5), ["truncated", "(6,)"]),
    ((0x803).to_bytes(4, "big") + (3).to_bytes(4, "big"), ["truncated header"]),
    (b"\x00\x00\x08\x02" + bytes(20), ["magic number 0x00000802"]),
    (b"PK\x03\x04" + bytes(20), ["not an MNIST IDX file"]),
    (b"\x00\x00", ["too short"]),
])
def test_read_idx_rejects_bad_files(tmp_path, content, fragments):
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_read_idx_broken_gzip_and_missing_file(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(fake_labels(50)))[:-10])
    with pytest.raises(DataError, match="broken gzip"):
        read_idx(path)
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "nope")


# ------------------------------------------------------------ loading a folder

@pytest.mark.parametrize("gz", [False, True])
def test_load_folder_flattens(tmp_path, gz):
    folder = write_mnist_folder(tmp_path / "m", n_train=5, n_test=3, gz=gz)
    ds = load_mnist(data_dir=folder)
    assert ds.x_train.shape == (5, 784) and ds.x_test.shape == (3, 784)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.uint8
    assert np.array_equal(ds.x_train[1].reshape(28, 28), fake_images(5)[1])
    assert not ds.is_sample and str(folder) in ds.source and ds.note == ""
    with pytest.raises(ValueError):  # the loaded data is protected from accidents
        ds.x_train[0, 0] = 1


def test_load_folder_labels_where_images_expected(tmp_path):
    folder = write_mnist_folder(tmp_path, overrides={"train-images-idx3-ubyte": idx_bytes(fake_labels(5))})
    with pytest.raises(DataError, match="expected images.*found labels"):
        load_mnist(data_dir=folder)


def test_load_folder_lengths_differ(tmp_path):
    folder = write_mnist_folder(tmp_path, overrides={"train-labels-idx1-ubyte": idx_bytes(fake_labels(4))})
    with pytest.raises(DataError, match="5 images but 4 labels") as info:
        load_mnist(data_dir=folder)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


def test_load_folder_labels_must_be_digits(tmp_path):
    folder = write_mnist_folder(tmp_path, overrides={"t10k-labels-idx1-ubyte": idx_bytes(np.array([1, 2, 12]))})
    with pytest.raises(DataError, match="label 12 is not a digit"):
        load_mnist(data_dir=folder)


def test_explicit_folder_missing_files_raises(tmp_path, monkeypatch):
    folder = write_mnist_folder(tmp_path / "m")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    (folder / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError) as info:
        load_mnist(data_dir=folder)
    assert "t10k-labels-idx1-ubyte" in str(info.value) and "train-images-idx3-ubyte" in str(info.value)
    assert "train-labels" not in str(info.value)
    # Same through the environment variable: no silent fallback to the sample.
    monkeypatch.setenv("MNIST_DIR", str(folder))
    with pytest.raises(DataError, match="missing MNIST files"):
        load_mnist(cache_dir=tmp_path / "empty")
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "does-not-exist"))
    with pytest.raises(DataError, match="not found"):
        load_mnist()
    with pytest.raises(DataError, match="expected a folder"):
        load_mnist(data_dir=folder / "train-labels-idx1-ubyte.gz")


# ------------------------------------------------------------ npz

def keras_arrays(n_train=4, n_test=2):
    return dict(x_train=fake_images(n_train), y_train=fake_labels(n_train),
                x_test=fake_images(n_test, seed=1), y_test=fake_labels(n_test))


def test_read_npz_good(tmp_path):
    np.savez_compressed(tmp_path / "mnist.npz", **keras_arrays())
    x_train, y_train, x_test, y_test = read_npz_mnist(tmp_path / "mnist.npz")
    assert x_train.shape == (4, 28, 28) and y_test.shape == (2,)
    assert np.array_equal(x_train, fake_images(4))
    # A folder holding mnist.npz, or the file itself, works as data_dir.
    for where in (tmp_path, tmp_path / "mnist.npz"):
        ds = load_mnist(data_dir=where)
        assert ds.x_train.shape == (4, 784) and not ds.is_sample


def test_read_npz_refuses_pickles(tmp_path):
    arrays = keras_arrays()
    arrays["y_train"] = np.array([1, "two", None, 4], dtype=object)  # stored with pickle
    np.savez(tmp_path / "evil.npz", **arrays)
    with pytest.raises(DataError, match="evil.npz.*allow_pickle"):
        read_npz_mnist(tmp_path / "evil.npz")


def test_read_npz_bad_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="junk.npz"):
        read_npz_mnist(tmp_path / "junk.npz")
    arrays = keras_arrays()
    del arrays["y_test"]
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(DataError, match="missing arrays y_test"):
        read_npz_mnist(tmp_path / "short.npz")
    arrays = keras_arrays()
    arrays["x_train"] = arrays["x_train"].astype(np.float32)
    np.savez(tmp_path / "float.npz", **arrays)
    with pytest.raises(DataError, match="expected images"):
        read_npz_mnist(tmp_path / "float.npz")


# ------------------------------------------------------------ download

@pytest.fixture
def server():
    """A local HTTP server. Set server.routes[path] = (behaviour, body).

    behaviours: "ok"; "cut" (announce the full length, send half, hang up);
    "hang" (accept, never answer; ends by itself when the test is over).
    Unknown paths get 404. Every request path is logged in server.requests.
    """
    routes, requests, release = {}, [], threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            behaviour, body = routes.get(self.path, ("404", b""))
            if behaviour == "hang":
                release.wait(10)  # the client gives up long before
                return
            if behaviour == "404":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body if behaviour == "ok" else body[: len(body) // 2])
            # returning closes the connection (HTTP/1.0)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{httpd.server_port}", routes=routes, requests=requests)
    release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


# A tiny stand-in for an MNIST file: random bytes don't compress, so the .gz
# is ~150 kB and arrives in several chunks.
CONTENT = np.random.default_rng(42).integers(0, 256, 150_000, dtype=np.uint8).tobytes()
GOOD_GZ = gzip.compress(CONTENT, mtime=0)
TINY = {"tiny": hashlib.sha256(CONTENT).hexdigest()}


def flipped(b, at):
    b = bytearray(b)
    b[at] ^= 0xFF
    return bytes(b)


BAD_SERVERS = {
    # one byte of the content flipped, properly gzipped: only the checksum can tell
    "flipped": (("ok", gzip.compress(flipped(CONTENT, 1234), mtime=0)), "wrong checksum"),
    # one byte of the compressed stream flipped
    "bad-gzip": (("ok", flipped(GOOD_GZ, len(GOOD_GZ) // 2)), "not a valid gzip file"),
    "cut": (("cut", GOOD_GZ), f"connection cut after {len(GOOD_GZ) // 2:,} of {len(GOOD_GZ):,} bytes"),
    "404": (("404", b""), "HTTP 404"),
    "hang": (("hang", b""), "no answer within 0.5 s"),
}


def files_in(folder):
    """Every file in folder, hidden ones (such as leftover temporaries) included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_good(server, tmp_path):
    server.routes["/m/tiny.gz"] = ("ok", GOOD_GZ)
    calls = []
    dest = tmp_path / "cache" / "deeper"  # created on demand
    result = data.download_mnist(dest, mirrors=[server.url + "/m/"], files=TINY,
                                 progress=lambda *a: calls.append(a), timeout=5)
    assert result == dest
    assert files_in(dest) == ["tiny.gz"] and (dest / "tiny.gz").read_bytes() == GOOD_GZ
    assert calls[0] == ("tiny.gz", 0, len(GOOD_GZ))
    assert calls[-1] == ("tiny.gz", len(GOOD_GZ), len(GOOD_GZ))
    assert len(calls) > 2 and [c[1] for c in calls] == sorted(c[1] for c in calls)
    # Already there and verified: not fetched again.
    data.download_mnist(dest, mirrors=[server.url + "/m/"], files=TINY, timeout=5)
    assert server.requests == ["/m/tiny.gz"]


@pytest.mark.parametrize("kind", list(BAD_SERVERS))
def test_download_bad_mirror(server, tmp_path, kind):
    (behaviour, body), reason = BAD_SERVERS[kind]
    server.routes["/bad/tiny.gz"] = (behaviour, body)
    server.routes["/good/tiny.gz"] = ("ok", GOOD_GZ)

    # The bad mirror fails, the next one is used.
    dest = tmp_path / "a"
    data.download_mnist(dest, mirrors=[server.url + "/bad/", server.url + "/good/"],
                        files=TINY, timeout=0.5)
    assert files_in(dest) == ["tiny.gz"] and (dest / "tiny.gz").read_bytes() == GOOD_GZ

    # Only bad mirrors: a DataError naming each mirror and its reason; nothing left behind.
    dest = tmp_path / "b"
    other = f"http://127.0.0.1:{closed_port()}/"
    with pytest.raises(DataError) as info:
        data.download_mnist(dest, mirrors=[server.url + "/bad/", other], files=TINY, timeout=0.5)
    message = str(info.value)
    assert "tiny.gz" in message and reason in message
    assert f"{server.url}/bad/tiny.gz" in message and f"{other}tiny.gz: " in message
    assert "\n" not in message
    assert files_in(dest) == []


def test_download_replaces_or_removes_bad_cached_file(server, tmp_path):
    (tmp_path / "tiny.gz").write_bytes(gzip.compress(b"not it"))
    with pytest.raises(DataError):
        data.download_mnist(tmp_path, mirrors=[server.url + "/none/"], files=TINY, timeout=5)
    assert files_in(tmp_path) == []  # the bad copy is gone
    (tmp_path / "tiny.gz").write_bytes(b"garbage")
    server.routes["/m/tiny.gz"] = ("ok", GOOD_GZ)
    data.download_mnist(tmp_path, mirrors=[server.url + "/m/"], files=TINY, timeout=5)
    assert (tmp_path / "tiny.gz").read_bytes() == GOOD_GZ


def test_download_cache_folder_not_writable(tmp_path):
    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(DataError, match="cannot write to the cache folder"):
        data.download_mnist(tmp_path / "a-file" / "cache", mirrors=["http://127.0.0.1:1/"], files=TINY)


# ------------------------------------------------------------ falling back

def test_no_network_no_copy_gives_sample(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    cache = tmp_path / "cache"
    ds = load_mnist(cache_dir=cache, download=True, mirrors=[f"http://127.0.0.1:{closed_port()}/"], timeout=2)
    assert ds.is_sample and ds.source == "built-in sample: 12,000 of 70,000 digits"
    assert "download failed" in ds.note and "train-images-idx3-ubyte.gz" in ds.note
    assert files_in(cache) == []


def test_no_copy_no_download_gives_sample(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    ds = load_mnist(cache_dir=tmp_path)
    assert ds.is_sample and "no full MNIST found" in ds.note and str(tmp_path) in ds.note


def test_cached_copy_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    write_mnist_folder(tmp_path, n_train=6, n_test=2)
    ds = load_mnist(cache_dir=tmp_path)
    assert not ds.is_sample and ds.x_train.shape == (6, 784) and ds.note == ""


def test_broken_cache_falls_back_with_note(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    write_mnist_folder(tmp_path, overrides={"train-labels-idx1-ubyte": idx_bytes(fake_labels(4))})
    ds = load_mnist(cache_dir=tmp_path)
    assert ds.is_sample and "cached copy is unusable" in ds.note and "5 images but 4 labels" in ds.note


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITS_CACHE_DIR", str(tmp_path / "mine"))
    assert data.default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("DIGITS_CACHE_DIR")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.default_cache_dir() == tmp_path / "xdg" / "digits-from-scratch"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.default_cache_dir() == Path.home() / ".cache" / "digits-from-scratch"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert data.default_cache_dir() == Path.home() / "Library" / "Caches" / "digits-from-scratch"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert data.default_cache_dir() == tmp_path / "local" / "digits-from-scratch"


# ------------------------------------------------------------ the sample

def test_sample_contents():
    ds = load_sample()
    assert ds.is_sample and ds.source == "built-in sample: 12,000 of 70,000 digits"
    assert ds.x_train.shape == (10_000, 784) and ds.x_test.shape == (2_000, 784)
    assert ds.x_train.dtype == np.uint8 and ds.y_test.dtype == np.uint8
    assert not ds.x_train.flags.writeable and not ds.y_train.flags.writeable
    assert np.bincount(ds.y_train).tolist() == [1000] * 10
    assert np.bincount(ds.y_test).tolist() == [200] * 10
    assert data.SAMPLE_PATH.stat().st_size < 4_000_000


def test_to_float_and_cached_test_float():
    ds = load_sample()
    x = data.to_float(ds.x_train)
    assert x.dtype == np.float32 and x.shape == (10_000, 784)
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.allclose(x[:1000], ds.x_train[:1000] / 255.0)
    assert data.to_float(x) is x                      # already float32: no copy
    assert data.to_float(np.array([[0.5]])).dtype == np.float32
    t = ds.test_float()
    assert t.dtype == np.float32 and t.shape == (2_000, 784) and ds.test_float() is t
    assert 0.0 <= t.min() and t.max() <= 1.0


# ------------------------------------------------------------ the full set

@pytest.fixture(scope="module")
def full():
    return load_mnist(data_dir=MNIST_DIR)


@needs_mnist
def test_full_label_counts(full):
    assert full.x_train.shape == (60_000, 784) and full.x_test.shape == (10_000, 784)
    assert np.bincount(full.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(full.y_test).tolist() == TEST_COUNTS
    assert not full.is_sample and str(MNIST_DIR) in full.source


@needs_mnist
def test_sample_matches_official_files(full):
    sample = load_sample()
    with np.load(data.SAMPLE_PATH, allow_pickle=False) as npz:
        train_index, test_index = npz["train_index"], npz["test_index"]
    assert train_index.dtype == np.int32 and len(np.unique(train_index)) == 10_000
    assert np.array_equal(sample.x_train, full.x_train[train_index])
    assert np.array_equal(sample.y_train, full.y_train[train_index])
    assert np.array_equal(sample.x_test, full.x_test[test_index])
    assert np.array_equal(sample.y_test, full.y_test[test_index])


@needs_mnist
def test_official_checksums_and_no_redownload(tmp_path):
    # A cache holding the official files counts as verified: no network needed.
    for name in data.FILES:
        src = MNIST_DIR / (name + ".gz")
        if not src.exists():
            (tmp_path / (name + ".gz")).write_bytes(gzip.compress((MNIST_DIR / name).read_bytes(), 1))
        else:
            (tmp_path / (name + ".gz")).write_bytes(src.read_bytes())
    data.download_mnist(tmp_path, mirrors=[f"http://127.0.0.1:{closed_port()}/"])
    assert files_in(tmp_path) == sorted(name + ".gz" for name in data.FILES)


@needs_mnist
def test_download_then_load_end_to_end(server, tmp_path, monkeypatch):
    # Serve the official .gz files locally; load_mnist downloads, verifies, caches, loads.
    monkeypatch.delenv("MNIST_DIR", raising=False)
    for name in data.FILES:
        server.routes[f"/mnist/{name}.gz"] = ("ok", (MNIST_DIR / (name + ".gz")).read_bytes())
    seen = set()
    ds = load_mnist(cache_dir=tmp_path, download=True, mirrors=[server.url + "/mnist/"],
                    progress=lambda name, done, total: seen.add(name) if done == total else None)
    assert not ds.is_sample and ds.note == "" and ds.x_train.shape == (60_000, 784)
    assert seen == {name + ".gz" for name in data.FILES}
    assert files_in(tmp_path) == sorted(name + ".gz" for name in data.FILES)
