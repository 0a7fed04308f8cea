"""The MNIST handwritten digits: finding them, downloading them, reading them.

MNIST has 70,000 grey-scale images of handwritten digits, 28x28 pixels each,
split into 60,000 for training and 10,000 for testing. The official files use
the simple "IDX" format: a small header followed by the raw bytes.

Where the data comes from (see `load_mnist`), first match wins:

  1. a folder you name (argument `data_dir` or environment variable MNIST_DIR)
     holding the four IDX files (raw or .gz) or a Keras-style mnist.npz;
  2. a copy downloaded earlier into the cache folder (`default_cache_dir()`);
  3. a fresh download from a public mirror, if you ask for one;
  4. the small sample that ships with the app (12,000 digits), so the app
     always works, even offline.

Images stay uint8 (one byte per pixel, 0 = white paper, 255 = black ink). The
network reads float32 numbers between 0 and 1 (`to_float`); the trainer makes
them one mini-batch at a time, because a float32 copy of the whole training
set would take four times the memory (188 MB instead of 47 MB).

Only NumPy and the standard library are used here.
"""
import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .files import atomic_write_bytes
from i18n import _, as_is

# The SHA-256 of each official file's *decompressed* bytes. We check the
# decompressed bytes because different mirrors gzip the same data differently.
FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# Well-known public copies of the official .gz files, tried in this order.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
]

SAMPLE_PATH = Path(__file__).parent / "sample" / "mnist_sample.npz"
SAMPLE_FORMAT = "digits-from-scratch mnist sample v1"

IMAGE_SIZE = 28                  # pixels per side
PIXELS = IMAGE_SIZE * IMAGE_SIZE  # 784 inputs to the network
MAGIC_IMAGES = 0x00000803        # 0x08 = uint8 data, 0x03 = three dimensions
MAGIC_LABELS = 0x00000801        # 0x08 = uint8 data, 0x01 = one dimension

CHUNK = 64 * 1024                # download in pieces so we can report progress
USER_AGENT = "digits-from-scratch (MNIST download)"

NPZ_NAME = "mnist.npz"
NPZ_KEYS = ["x_train", "y_train", "x_test", "y_test"]


class DataError(Exception):
    """A data file is missing, broken or unreadable. The message says which and why."""


# ---------------------------------------------------------------- the dataset

@dataclass(eq=False)  # eq=False: comparing arrays with == is element-wise, not a yes/no
class Dataset:
    """Images and labels, ready for the network.

    x_train: (n_train, 784) uint8, one flattened 28x28 image per row
    y_train: (n_train,) uint8, the digit 0-9 shown in each image
    x_test:  (n_test, 784) uint8
    y_test:  (n_test,) uint8
    source:  where the data came from, in words, for the user
    is_sample: True for the small built-in sample, False for the full set
    note:    why the full set was not used ("" if it was, or nobody asked)
    """
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    is_sample: bool
    note: str = ""
    # The float copy of the test set, made on first use (see test_float).
    _test_float: np.ndarray = field(default=None, init=False, repr=False)

    def test_float(self):
        """x_test as (n_test, 784) float32 in [0, 1]. Made once, then reused
        (31 MB for the full set: every page that tests the model needs it).

        The result is read-only because every caller shares the same array.
        """
        if self._test_float is None:
            self._test_float = to_float(self.x_test)
            self._test_float.flags.writeable = False
        return self._test_float


def to_float(x):
    """Pixels as the network reads them: uint8 0..255 (any shape) -> float32 0..1.

    Float input is taken to be in [0, 1] already and is returned as float32.
    """
    if x.dtype != np.uint8:
        return np.asarray(x, dtype=np.float32)
    x = x.astype(np.float32)
    x /= 255  # in place: no second temporary array
    return x


def _dataset(train_images, train_labels, test_images, test_labels, source, is_sample):
    """Build a Dataset from (n, 28, 28) images, flattening them to (n, 784).

    The arrays are made read-only so no code can change the data by accident;
    training code works on copies (for example the mini-batches it picks).
    """
    arrays = [train_images.reshape(len(train_images), PIXELS), train_labels,
              test_images.reshape(len(test_images), PIXELS), test_labels]
    for a in arrays:
        a.flags.writeable = False
    return Dataset(*arrays, source=source, is_sample=is_sample)


# ------------------------------------------------------------ reading files

def read_idx(path):
    """Read one IDX file, raw or gzip-compressed, into a uint8 array.

    Returns (n, 28, 28) for an image file (magic 0x00000803) or (n,) for a
    label file (magic 0x00000801). The header's counts must account for the
    file's length exactly; anything else raises DataError.
    """
    path = Path(path)
    data = _read_bytes(path)

    # Header: 2 zero bytes, 1 byte data type (0x08 = uint8), 1 byte number of
    # dimensions, then each dimension's size as a 4-byte big-endian integer.
    if len(data) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic not in (MAGIC_IMAGES, MAGIC_LABELS):
        raise DataError(f"{path}: not an MNIST IDX file (magic number 0x{magic:08x}, "
                        f"expected 0x{MAGIC_IMAGES:08x} for images or 0x{MAGIC_LABELS:08x} for labels)")
    ndim = data[3]
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{path}: truncated header ({len(data)} bytes, expected {header_size})")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))

    expected = header_size + int(np.prod(shape))
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has extra bytes"
        raise DataError(f"{path}: {what}: header says shape {shape}, which needs "
                        f"{expected:,} bytes, but the file has {len(data):,}")
    # frombuffer reads the bytes in place: no copy, no Python loop.
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_bytes(path):
    """The file's bytes, decompressed if it is gzip (gzip files start with 1f 8b)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(_("{path}: file not found").format(path=as_is(path))) from None
    except OSError as e:
        raise DataError(_("{path}: cannot read ({reason})").format(path=as_is(path), reason=e.strerror or e)) from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: broken gzip file ({e})") from None
    return data


def read_npz_mnist(path):
    """Read a Keras-style mnist.npz: returns (x_train, y_train, x_test, y_test).

    Images are (n, 28, 28) uint8, labels (n,) uint8. The file is opened with
    allow_pickle=False: an .npz can hold pickled Python objects, and unpickling
    a downloaded file can run arbitrary code.
    """
    arrays = _read_npz(Path(path), NPZ_KEYS)
    _check_pair(arrays["x_train"], arrays["y_train"], f"{path} x_train/y_train")
    _check_pair(arrays["x_test"], arrays["y_test"], f"{path} x_test/y_test")
    return tuple(arrays[key] for key in NPZ_KEYS)


def _read_npz(path, keys, optional=()):
    """Load the named arrays (and those of `optional` it has) from an .npz file, as a dict;
    DataError if that fails."""
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise DataError(f"{path}: not an .npz archive (a single array)")
        with npz:
            missing = [key for key in keys if key not in npz.files]
            if missing:
                raise DataError(f"{path}: missing arrays {', '.join(missing)} "
                                f"(has {', '.join(npz.files) or 'none'})")
            return {key: npz[key] for key in [*keys, *optional] if key in npz.files}
    except FileNotFoundError:
        raise DataError(_("{path}: file not found").format(path=as_is(path))) from None
    except ValueError as e:  # e.g. "Object arrays cannot be loaded when allow_pickle=False"
        raise DataError(f"{path}: unreadable .npz ({e})") from None
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a valid .npz file ({e})") from None


def _check_pair(images, labels, what):
    """Check that images (n, 28, 28) uint8 and labels (n,) uint8 0-9 belong together."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        kind = "labels" if images.ndim == 1 else f"{images.dtype} array of shape {images.shape}"
        raise DataError(f"{what}: expected images of shape (n, 28, 28) uint8, found {kind}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        kind = "images" if labels.ndim == 3 else f"{labels.dtype} array of shape {labels.shape}"
        raise DataError(f"{what}: expected labels of shape (n,) uint8, found {kind}")
    if len(images) != len(labels):
        raise DataError(f"{what}: {len(images):,} images but {len(labels):,} labels")
    if labels.size and labels.max() > 9:
        raise DataError(f"{what}: label {labels.max()} is not a digit 0-9")


def _find_idx_files(folder):
    """Map each official file name to its path in `folder` (raw or .gz), or None."""
    found = {}
    for name in FILES:
        candidates = [folder / name, folder / (name + ".gz")]
        found[name] = next((p for p in candidates if p.is_file()), None)
    return found


def _has_copy(folder):
    """True if `folder` holds all four IDX files or a mnist.npz."""
    return all(_find_idx_files(folder).values()) or (folder / NPZ_NAME).is_file()


def _load_folder(path):
    """Load the full set from a folder of IDX files, a folder with mnist.npz, or an .npz file."""
    if path.is_file() and path.suffix == ".npz":
        return _load_npz(path)
    if not path.exists():
        raise DataError(_("{path}: MNIST folder not found").format(path=as_is(path)))
    if not path.is_dir():
        raise DataError(_("{path}: expected a folder holding the MNIST files, or an .npz file").format(
            path=as_is(path)))

    found = _find_idx_files(path)
    if all(found.values()):
        train_images = read_idx(found["train-images-idx3-ubyte"])
        train_labels = read_idx(found["train-labels-idx1-ubyte"])
        test_images = read_idx(found["t10k-images-idx3-ubyte"])
        test_labels = read_idx(found["t10k-labels-idx1-ubyte"])
        _check_pair(train_images, train_labels,
                    f"{found['train-images-idx3-ubyte'].name}/{found['train-labels-idx1-ubyte'].name} in {path}")
        _check_pair(test_images, test_labels,
                    f"{found['t10k-images-idx3-ubyte'].name}/{found['t10k-labels-idx1-ubyte'].name} in {path}")
        return _dataset(train_images, train_labels, test_images, test_labels,
                        source=f"full MNIST from {path}", is_sample=False)
    if (path / NPZ_NAME).is_file():
        return _load_folder(path / NPZ_NAME)
    missing = [name + "[.gz]" for name, p in found.items() if p is None]
    raise DataError(_("{path}: missing MNIST files {files} (or put a {npz} there instead)").format(
        path=as_is(path), files=as_is(", ".join(missing)), npz=NPZ_NAME))


def _load_npz(path):
    """A Keras-style mnist.npz, or a copy of the built-in sample (named as the sample, not as full MNIST)."""
    arrays = _read_npz(path, NPZ_KEYS, optional=["format", "source_sizes"])
    if "format" in arrays or "source_sizes" in arrays:   # only the sample holds these
        sample = _sample_dataset(arrays, path)
        sample.source += f" (read from {path})"
        sample.note = f"{path} holds the built-in sample, not the full set"
        return sample
    _check_pair(arrays["x_train"], arrays["y_train"], f"{path} x_train/y_train")
    _check_pair(arrays["x_test"], arrays["y_test"], f"{path} x_test/y_test")
    return _dataset(*(arrays[key] for key in NPZ_KEYS), source=f"full MNIST from {path}", is_sample=False)


def _short(text, limit=60):
    """`text` cut to its first `limit` characters, so a huge name can't flood a message."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def _folder_path(data_dir):
    """The Path that `data_dir` names, with ~ expanded. Names no file system can
    accept raise DataError with one sentence, instead of an OSError or RuntimeError
    deep inside pathlib."""
    text = os.fspath(data_dir)
    if "\x00" in text:   # the OS refuses such names; pathlib would say "embedded null byte"
        raise DataError(_("{path}: a folder name cannot contain a NUL character").format(
            path=as_is(_short(text.replace(chr(0), '?')))))
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~someone" for a user this computer doesn't have (or no home folder at all)
        user = text.split("/", 1)[0]
        raise DataError(_("{path}: no home folder found for {user}, so the ~ cannot be expanded").format(
            path=as_is(_short(text)), user=as_is(_short(user, 30)))) from None


# ------------------------------------------------------------ where to keep it

def default_cache_dir():
    """The folder where downloaded data is kept: env DIGITS_CACHE_DIR if set,
    else the platform's usual cache place:
      Linux:   $XDG_CACHE_HOME/digits-from-scratch  (default ~/.cache/...)
      macOS:   ~/Library/Caches/digits-from-scratch
      Windows: %LOCALAPPDATA%\\digits-from-scratch
    The folder is not created here; download_mnist creates it when needed.
    """
    if os.environ.get("DIGITS_CACHE_DIR"):
        return Path(os.environ["DIGITS_CACHE_DIR"]).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Caches"
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    return base / "digits-from-scratch"


# ------------------------------------------------------------ downloading

class _MirrorFailed(Exception):
    """One mirror could not deliver one file; we move on to the next mirror."""


# Everything that can go wrong talking to one mirror. (urllib's URLError and
# HTTPError, socket timeouts and refused connections are all OSErrors.)
_MIRROR_ERRORS = (_MirrorFailed, OSError, http.client.HTTPException, ValueError)


def download_mnist(dest_dir=None, mirrors=None, progress=None, timeout=20.0, files=None):
    """Download the four MNIST .gz files into `dest_dir`; return dest_dir as a Path.

    dest_dir: folder to fill (default: default_cache_dir()); created if needed.
    mirrors:  base URLs to try in turn (default: MIRRORS).
    progress: optional function progress(file_name, bytes_done, bytes_total)
              called as bytes arrive; bytes_total is None if the server does
              not say.
    timeout:  seconds to wait for the server at each step before giving up.
    files:    {name: sha256 of the decompressed content} (default: FILES).
              Each file is fetched as <mirror><name>.gz.

    A file already in dest_dir with the right checksum is not downloaded again.
    A file is written (atomically) only once it has fully arrived and its
    checksum is right, so dest_dir never holds a partial or corrupt file.
    Raises DataError if dest_dir cannot be written, or if every mirror fails
    for some file (the message gives each mirror's reason).
    """
    dest_dir = Path(dest_dir) if dest_dir is not None else default_cache_dir()
    mirrors = MIRRORS if mirrors is None else mirrors
    files = FILES if files is None else files
    _check_writable(dest_dir)

    for name, sha256 in files.items():
        target = dest_dir / (name + ".gz")
        if target.exists():
            if _is_verified(target, sha256):
                continue
            target.unlink()  # a bad copy must not be mistaken for a good one later
        reasons = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name + ".gz"
            try:
                data = _fetch(url, target.name, progress, timeout)
                _verify_gz(data, sha256)
                break  # got a good copy
            except _MIRROR_ERRORS as e:
                reasons.append(f"{url}: {_describe(e, timeout)}")
        else:  # the loop ended without `break`: no mirror worked
            raise DataError(_("could not download {file}: {reasons}").format(
                file=f"{name}.gz", reasons="; ".join(reasons) or _("no mirrors given")))
        try:
            atomic_write_bytes(target, data)
        except OSError as e:
            raise DataError(f"{dest_dir}: cannot write {target.name} ({e.strerror or e})") from None
    return dest_dir


def _check_writable(folder):
    """Create `folder` if needed and make sure we may write in it, before downloading."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Creating a file is the only sure test (permissions, read-only disks...).
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise DataError(_("{folder}: cannot write to the cache folder ({reason}); set DIGITS_CACHE_DIR to a folder "
                          "you can write to").format(folder=as_is(folder), reason=e.strerror or e)) from None


def _fetch(url, file_name, progress, timeout):
    """Download `url` into memory and return its bytes. Raises on any failure."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        chunks, done = [], 0
        if progress:
            progress(file_name, 0, total)
        while True:
            chunk = response.read(CHUNK)  # waits at most `timeout` seconds
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
            if progress:
                progress(file_name, done, total)
    # A connection cut early looks like a normal end of data; only the
    # announced length tells them apart.
    if total is not None and done != total:
        raise _MirrorFailed(f"connection cut after {done:,} of {total:,} bytes")
    return b"".join(chunks)


def _verify_gz(gz_bytes, sha256):
    """Raise _MirrorFailed unless `gz_bytes` is valid gzip whose content has this SHA-256."""
    try:
        content = gzip.decompress(gz_bytes)
    except (OSError, EOFError, zlib.error) as e:
        raise _MirrorFailed(f"not a valid gzip file ({e})") from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise _MirrorFailed("wrong checksum (a damaged or different file)")


def _is_verified(path, sha256):
    """True if `path` is a gzip file whose content has this SHA-256."""
    try:
        _verify_gz(path.read_bytes(), sha256)
    except _MirrorFailed:
        return False
    return True


def _describe(error, timeout):
    """A short human reason for a failed download."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):  # a wrapper: the cause is in .reason
        error = error.reason
        if isinstance(error, str):
            return error
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


# ------------------------------------------------------------ loading

def load_mnist(data_dir=None, cache_dir=None, download=False, progress=None, mirrors=None, timeout=20.0):
    """Load MNIST from the best place available; always returns a Dataset.

    data_dir:  folder with the four IDX files (raw or .gz) or a mnist.npz, or the
               path of an .npz file. Default: env MNIST_DIR. If one is given it
               must work: a missing or broken one raises DataError rather than
               quietly falling back to something else.
    cache_dir: where downloads are kept (default: default_cache_dir()).
    download:  if True and the cache has no copy, download one (see download_mnist).
    progress, mirrors, timeout: passed on to download_mnist.

    Without a named folder, a cached copy or a successful download, this returns
    the built-in sample, with `note` saying why the full set was not used.
    """
    if data_dir is None:
        data_dir = os.environ.get("MNIST_DIR") or None
    if data_dir is not None:
        path = _folder_path(data_dir)
        try:
            return _load_folder(path)
        except (OSError, ValueError) as e:   # e.g. "File name too long" from the first look at the path
            reason = getattr(e, "strerror", None) or str(e)
            raise DataError(_("{path}: cannot be opened ({reason})").format(path=as_is(_short(path)),
                                                                            reason=_short(reason, 100))) from None

    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    note = f"no full MNIST found (MNIST_DIR is not set and {cache_dir} holds no copy)"
    if _has_copy(cache_dir):
        try:
            return _load_folder(cache_dir)
        except DataError as e:
            note = f"the cached copy is unusable: {e}"
    if download:
        try:
            download_mnist(cache_dir, mirrors=mirrors, progress=progress, timeout=timeout)
            return _load_folder(cache_dir)
        except DataError as e:
            note = f"download failed: {e}"
    sample = load_sample()
    sample.note = note
    return sample


def load_sample():
    """Load the small sample that ships with the app (works offline).

    It holds 1,000 training and 200 test images of each digit, picked at random
    from the official files by scripts/build_sample.py.
    """
    return _sample_dataset(_read_npz(SAMPLE_PATH, NPZ_KEYS + ["format", "source_sizes"]), SAMPLE_PATH)


def _sample_dataset(arrays, path):
    """The Dataset of the built-in sample's arrays, read from `path`."""
    sizes = arrays.get("source_sizes")
    if str(arrays.get("format")) != SAMPLE_FORMAT or sizes is None or sizes.dtype.kind not in "iu":
        raise DataError(f"{path}: unknown sample format {_short(arrays.get('format'))!r}")
    _check_pair(arrays["x_train"], arrays["y_train"], f"{path} x_train/y_train")
    _check_pair(arrays["x_test"], arrays["y_test"], f"{path} x_test/y_test")
    n_sample = len(arrays["y_train"]) + len(arrays["y_test"])
    n_full = int(sizes.sum())
    return _dataset(*(arrays[key] for key in NPZ_KEYS),
                    source=f"built-in sample: {n_sample:,} of {n_full:,} digits", is_sample=True)
