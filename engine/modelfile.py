"""Saving and loading models with np.savez, safely.

A model file is an .npz archive (a zip of .npy arrays) holding:
    format_version  int, currently 1
    kind            the string "digits-from-scratch-mlp"
    sizes           int64 (L+1,) layer sizes, e.g. [784, 128, 10]
    activation      string, e.g. "relu"
    loss            string, "mse" or "cross-entropy"
    settings        JSON string: how the model was trained (may be "{}")
    W0, b0, W1, b1, ...  float32 weights (n_out, n_in) and biases (n_out,)

Loading uses allow_pickle=False: a file can carry only plain numbers and
strings, never Python objects that would run code. Every key, shape, dtype and
value is checked; anything wrong raises ModelFileError with the reason.
"""
import io
import json
import math
import zipfile

import numpy as np

from .files import atomic_write
from .network import ACTIVATIONS, DTYPE, LOSSES, Network

FORMAT_VERSION = 1
KIND = "digits-from-scratch-mlp"
MAX_LAYERS = 20
MAX_UNITS = 100_000
# At most this many weights and biases (80 MB as float32): far above anything
# the app trains (its biggest, 5 hidden layers of 2048, has 18.4 million), and
# small enough that a file can never make a shared server run out of memory.
MAX_PARAMS = 20_000_000


class ModelFileError(ValueError):
    """A model file that cannot be used; the message says why."""


def model_arrays(net, settings=None):
    """The arrays that make up a model file, as a dict."""
    arrays = {"format_version": np.array(FORMAT_VERSION), "kind": np.array(KIND),
              "sizes": np.array(net.sizes, dtype=np.int64),
              "activation": np.array(net.activation), "loss": np.array(net.loss),
              "settings": np.array(json.dumps(settings or {}, default=str))}
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    return arrays


def model_to_bytes(net, settings=None):
    """The model file's content as bytes (for a download button)."""
    buf = io.BytesIO()
    np.savez(buf, **model_arrays(net, settings))
    return buf.getvalue()


def save_model(path, net, settings=None):
    """Save `net` (and a dict of training settings) to `path`, atomically."""
    return atomic_write(path, lambda f: np.savez(f, **model_arrays(net, settings)))


def _peek(source, n):
    """The first n bytes of a path or file object (the file object is rewound)."""
    if hasattr(source, "read"):
        pos = source.tell()
        head = source.read(n)
        source.seek(pos)
        return head
    with open(source, "rb") as f:
        return f.read(n)


def _text(files, key):
    arr = files[key]
    if arr.dtype.kind != "U" or arr.shape != ():
        raise ModelFileError(f"'{key}' should be a text value, found {arr.dtype} array of shape {arr.shape}")
    return str(arr)


def load_model(source, name=None):
    """Load a model from a path, bytes or file object. Returns (net, settings dict).

    Raises ModelFileError naming what is wrong for any file that is not a valid
    model: not an .npz, truncated, pickled objects, missing keys, wrong shapes,
    wrong dtypes, non-finite weights.
    """
    name = name or (source if isinstance(source, str) else getattr(source, "name", "the model file"))
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        head = _peek(source, 4)
    except FileNotFoundError:
        raise ModelFileError(f"{name} does not exist") from None
    except OSError as err:
        raise ModelFileError(f"{name} cannot be read: {err}") from None
    if not head:
        raise ModelFileError(f"{name} is empty")
    if head != b"PK\x03\x04":   # every .npz is a zip archive, and zips start with these bytes
        raise ModelFileError(f"{name} is not a model file: expected an .npz archive (made by np.savez)")
    try:
        npz = np.load(source, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ModelFileError(f"{name} is truncated or damaged (not a readable .npz archive): {err}") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ModelFileError(f"{name} holds a single array, not a model (.npz archive with weights)")
    with npz:
        try:
            _check_declared_size(npz, name)     # before anything is decompressed
            files = {k: npz[k] for k in npz.files}
        except ModelFileError:
            raise
        except ValueError as err:
            if "pickle" in str(err).lower() or "object" in str(err).lower():
                raise ModelFileError(f"{name} contains pickled Python objects, which are never loaded "
                                     f"(they could run code)") from None
            raise ModelFileError(f"{name} is damaged: {err}") from None
        except (OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
            raise ModelFileError(f"{name} is truncated or damaged: {err}") from None
    return _from_arrays(files, name)


def _check_declared_size(npz, name):
    """Refuse an archive whose arrays would be too big once loaded, reading only
    their .npy headers (a small compressed file can hold gigabytes of zeros)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    total = 0
    for member in npz.zip.namelist():
        with npz.zip.open(member) as f:
            version = np.lib.format.read_magic(f)
            if version not in readers:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, _, dtype = readers[version](f)
        total += math.prod(shape) * dtype.itemsize
    limit = 8 * MAX_PARAMS + 2**20       # float64 weights allowed, plus the small text values
    if total > limit:
        raise ModelFileError(f"{name} is too big: its arrays would take {total / 1e6:,.0f} MB once loaded; "
                             f"a model may have at most {MAX_PARAMS:,} weights and biases")


def _from_arrays(files, name):
    for key in ("format_version", "sizes", "activation", "loss"):
        if key not in files:
            raise ModelFileError(f"{name} is not a Digits-from-Scratch model: key '{key}' is missing")
    version = files["format_version"]
    if version.shape != () or version.dtype.kind not in "iu" or int(version) != FORMAT_VERSION:
        raise ModelFileError(f"{name} has format version {version!r}; this app reads version {FORMAT_VERSION}")
    sizes = files["sizes"]
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or not (2 <= len(sizes) <= MAX_LAYERS + 1):
        raise ModelFileError(f"{name}: 'sizes' must be a list of 2 to {MAX_LAYERS + 1} integers")
    sizes = [int(s) for s in sizes]
    if min(sizes) < 1 or max(sizes) > MAX_UNITS:
        raise ModelFileError(f"{name}: layer sizes {sizes} must be between 1 and {MAX_UNITS}")
    n_params = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMS:     # checked before Network() allocates anything
        raise ModelFileError(f"{name} is too big: layer sizes {'-'.join(map(str, sizes))} make {n_params:,} "
                             f"weights and biases; a model may have at most {MAX_PARAMS:,}")
    activation, loss = _text(files, "activation"), _text(files, "loss")
    if activation not in ACTIVATIONS:
        raise ModelFileError(f"{name}: unknown activation '{activation}'")
    if loss not in LOSSES:
        raise ModelFileError(f"{name}: unknown loss '{loss}'")
    settings = {}
    if "settings" in files:
        try:
            settings = json.loads(_text(files, "settings"))
        except json.JSONDecodeError:
            raise ModelFileError(f"{name}: 'settings' is not valid JSON") from None
        if not isinstance(settings, dict):
            raise ModelFileError(f"{name}: 'settings' must be a JSON object")
    net = Network(sizes, activation, loss, seed=0)
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        for key, shape in ((f"W{l}", (n_out, n_in)), (f"b{l}", (n_out,))):
            if key not in files:
                raise ModelFileError(f"{name}: '{key}' is missing for layer {l + 1} of {len(sizes) - 1}")
            arr = files[key]
            if arr.dtype.kind != "f":
                raise ModelFileError(f"{name}: '{key}' has dtype {arr.dtype}, expected floating point")
            if arr.shape != shape:
                raise ModelFileError(f"{name}: '{key}' has shape {arr.shape}, expected {shape} "
                                     f"for layer sizes {'-'.join(map(str, sizes))}")
            if not np.isfinite(arr).all():
                raise ModelFileError(f"{name}: '{key}' contains NaN or infinite values")
            (net.weights if key[0] == "W" else net.biases)[l] = arr.astype(DTYPE)
    extra = sorted(set(files) - {"format_version", "kind", "sizes", "activation", "loss", "settings"}
                   - {f"{c}{l}" for l in range(len(sizes) - 1) for c in "Wb"})
    if extra:
        raise ModelFileError(f"{name}: unexpected arrays {', '.join(extra)} (more layers than 'sizes' says?)")
    return net, settings
