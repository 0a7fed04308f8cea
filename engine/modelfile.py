"""Saving and loading models with np.savez, safely.

A model file is an .npz archive (a zip of .npy arrays). An MLP (network.Network)
is saved as version 1, which every release reads:
    format_version  int, 1
    kind            the string "digits-from-scratch-mlp"
    sizes           int64 (L+1,) layer sizes, e.g. [784, 128, 10]
    activation      string, e.g. "relu"
    loss            string, "mse" or "cross-entropy"
    settings        JSON string: how the model was trained (may be "{}")
    W0, b0, W1, b1, ...  float32 weights (n_out, n_in) and biases (n_out,)

A stack of layers (convnet.ConvNet, e.g. a CNN) is saved as version 2:
    format_version  int, 2
    kind            the string "digits-from-scratch-cnn"
    layers          JSON string: the layer stack, ConvNet.spec() (a list of small dicts)
    input_shape     int64 (3,): one example's (channels, height, width), e.g. [1, 28, 28]
    loss, settings  as in version 1
    W0, b0, W1, b1, ...  float32, in ConvNet.params() order: a convolution's W is
                    (filters, channels, k, k), a dense layer's (n_out, n_in)

Loading uses allow_pickle=False: a file can carry only plain numbers and
strings, never Python objects that would run code. Every key, shape, dtype and
value is checked; anything wrong raises ModelFileError with the reason. The
settings are only a description, so a bad one is dropped with a note
(clean_settings) instead of refusing the whole model.
"""
import io
import json
import math
import zlib

import numpy as np

from .budget import MAX_FORWARD_FLOPS, MAX_PARAMS, MAX_PEAK_VALUES, check_model  # noqa: F401 (the loader's limits)
from .convnet import ConvNet
from .files import atomic_write
from .network import ACTIVATIONS, DTYPE, LOSSES, Network
from .optim import OPTIMIZERS
from i18n import _, as_is, num

FORMAT_VERSION = 1              # MLPs: still written as version 1, so that older releases read them
KIND = "digits-from-scratch-mlp"
CNN_FORMAT_VERSION = 2          # layer stacks (ConvNet)
CNN_KIND = "digits-from-scratch-cnn"
LM_FORMAT_VERSION = 3           # language models: engine/language/modelfile.py
MAX_LAYERS = 20
MAX_UNITS = 100_000
# The budget (engine/budget.py, shared with the Train page): MAX_PARAMS weights and biases, and for
# one image MAX_PEAK_VALUES numbers at once in the busiest layer and MAX_FORWARD_FLOPS of arithmetic.
# The largest weight or bias a file may hold. The trainer stops long before
# (it calls |w| > 1e4 divergence, MAX_WEIGHT in engine/trainer.py); the extra
# room is for hand-made models, while a layer's weighted sums (a few thousand
# inputs times 1e6) stay far inside float32's range (3.4e38), so the pages that
# analyse a model do not meet infinities on the first layers.
MAX_ABS_PARAM = 1e6
# The app writes about 400 characters of settings; a longer text is not ours
# and would only cost memory and time to parse.
MAX_SETTINGS_CHARS = 100_000
# A model has 6 text/number arrays plus W and b per layer: more members than
# this and the archive is not a model (checked before opening any of them).
MAX_MEMBERS = 6 + 2 * MAX_LAYERS
# A layer stack's description: ConvNet.spec() of the app's CNNs is about 60 characters a layer.
MAX_SPEC_CHARS = 10_000
MAX_SPEC_LAYERS = 100
SPEC_KEYS = {"kind", "filters", "k", "p", "s", "units", "size", "stride", "name"}
MAX_INPUT_VALUES = MAX_UNITS   # one example's numbers at the input (c * h * w); MNIST's are 784


class ModelFileError(ValueError):
    """A model file that cannot be used; the message says why."""


def model_arrays(net, settings=None):
    """The arrays that make up a model file, as a dict: version 1 for an MLP, 2 for a ConvNet."""
    if isinstance(net, ConvNet):
        arrays = {"format_version": np.array(CNN_FORMAT_VERSION), "kind": np.array(CNN_KIND),
                  "layers": np.array(json.dumps(net.spec())),
                  "input_shape": np.array(net.input_shape, dtype=np.int64), "loss": np.array(net.loss),
                  "settings": np.array(json.dumps(settings or {}, default=str))}
        for l, (W, b) in enumerate(zip(net.weights, net.biases)):
            arrays[f"W{l}"], arrays[f"b{l}"] = W, b
        return arrays
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


def _text(files, key, name):
    arr = files[key]
    if arr.dtype.kind != "U" or arr.shape != ():
        raise ModelFileError(_("{name}: '{key}' should be a text value, found a {dtype} array of shape {shape}").format(
            name=as_is(name), key=key, dtype=arr.dtype, shape=arr.shape))
    return str(arr)


def load_model(source, name=None):
    """Load a model from a path, bytes or file object. Returns (net, settings dict).

    Raises ModelFileError naming what is wrong for any file that is not a valid
    model: not an .npz, truncated, pickled objects, missing keys, wrong shapes,
    wrong dtypes, non-finite or huge weights. The settings are cleaned (see
    clean_settings); load_model_with_notes also says what was dropped.
    """
    net, settings = load_model_with_notes(source, name)[:2]
    return net, settings


def load_model_with_notes(source, name=None):
    """Like load_model, but returns (net, settings, notes): notes is a list of
    short sentences, one per setting of the file that was dropped (unknown or
    of the wrong type or range), for the user to see."""
    files, name = read_archive(source, name)
    return _from_arrays(files, name)


def read_archive(source, name=None, max_members=None):
    """The arrays of an .npz model file (path, bytes or file object) as a dict, and the file's name
    for messages. Every check that needs no knowledge of the model: a zip archive, no pickles, at most
    max_members arrays (None = MAX_MEMBERS), their declared sizes within bounds before anything is
    decompressed. ModelFileError otherwise. (engine/language/modelfile.py reads its files with it too.)"""
    name = name or (source if isinstance(source, str) else getattr(source, "name", "the model file"))
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        head = _peek(source, 4)
    except FileNotFoundError:
        raise ModelFileError(_("{name} does not exist").format(name=as_is(name))) from None
    except OSError as err:
        raise ModelFileError(_("{name} cannot be read: {error}").format(name=as_is(name), error=err)) from None
    if not head:
        raise ModelFileError(_("{name} is empty").format(name=as_is(name)))
    if head != b"PK\x03\x04":   # every .npz is a zip archive, and zips start with these bytes
        raise ModelFileError(_("{name} is not a model file: expected an .npz archive (made by np.savez)").format(
            name=as_is(name)))
    # zipfile, zlib and numpy raise many kinds of exception for a damaged or
    # crafted archive (BadZipFile, zlib.error, RuntimeError, NotImplementedError,
    # ValueError, EOFError...): every one of them means "not a usable file".
    try:
        npz = np.load(source, allow_pickle=False)
    except Exception as err:
        raise ModelFileError(_("{name} is truncated or damaged (not a readable .npz archive): {error}").format(
            name=as_is(name), error=err)) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ModelFileError(_("{name} holds a single array, not a model (.npz archive with weights)").format(
            name=as_is(name)))
    with npz:
        try:
            _check_declared_size(npz, name, MAX_MEMBERS if max_members is None else max_members)
            files = {k: npz[k] for k in npz.files}
        except ModelFileError:
            raise
        except Exception as err:
            raise _unreadable(name, err) from None
    return files, name


def _unreadable(name, err):
    """The ModelFileError for an archive member that zipfile, zlib or numpy could not read."""
    text = str(err)
    if isinstance(err, ValueError) and ("pickle" in text.lower() or "object" in text.lower()):
        return ModelFileError(_("{name} contains pickled Python objects, which are never loaded "
                                "(they could run code)").format(name=as_is(name)))
    if isinstance(err, RuntimeError) and "encrypted" in text:
        return ModelFileError(_("{name} is password-protected (encrypted); model files saved by this app never "
                                "are").format(name=as_is(name)))
    if isinstance(err, NotImplementedError):
        return ModelFileError(_("{name} is compressed in a way this app cannot read; save it with np.savez or "
                                "np.savez_compressed").format(name=as_is(name)))
    if isinstance(err, zlib.error):
        return ModelFileError(_("{name} is damaged: its compressed data cannot be unpacked ({error})").format(
            name=as_is(name), error=text))
    return ModelFileError(_("{name} is truncated or damaged: {error}").format(
        name=as_is(name), error=text or type(err).__name__))


def _check_declared_size(npz, name, max_members=MAX_MEMBERS):
    """Refuse an archive whose arrays would be too big once loaded, reading only
    their .npy headers (a small compressed file can hold gigabytes of zeros)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    members = npz.zip.namelist()
    if len(members) > max_members:
        raise ModelFileError(_("{name} holds {n} arrays; a model has at most {most}").format(
            name=as_is(name), n=num(len(members)), most=num(max_members)))
    total = 0
    for member in members:
        with npz.zip.open(member) as f:
            version = np.lib.format.read_magic(f)
            if version not in readers:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, _fortran_order, dtype = readers[version](f)
        if any(n < 0 for n in shape):     # two negative sizes would multiply to a positive total
            raise ValueError(f"'{member}' declares a negative shape {shape}")
        total += math.prod(shape) * dtype.itemsize
    limit = 8 * MAX_PARAMS + 2**20       # float64 weights allowed, plus the small text values
    if total > limit:
        raise ModelFileError(_("{name} is too big: its arrays would take {mb} MB once loaded; a model may have at "
                               "most {most} weights and biases").format(name=as_is(name), mb=num(round(total / 1e6)),
                                                                        most=num(MAX_PARAMS)))


def _from_arrays(files, name):
    if "format_version" not in files:
        raise ModelFileError(_("{name} is not a Digits-from-Scratch model: key '{key}' is missing").format(
            name=as_is(name), key="format_version"))
    version = files["format_version"]
    if version.shape == () and version.dtype.kind in "iu" and int(version) == LM_FORMAT_VERSION:
        raise ModelFileError(_("{name} is a language model (it writes text), not a digit model; open it on the "
                               "language pages").format(name=as_is(name)))
    # The version first: it says which keys to expect (2.0 or [2] is not version 2, and saying
    # "key 'sizes' is missing" would send the user looking in the wrong place).
    if version.shape != () or version.dtype.kind not in "iu" or int(version) not in (FORMAT_VERSION,
                                                                                     CNN_FORMAT_VERSION):
        shown = repr(version.tolist()) if version.size <= 4 else f"an array of shape {version.shape}"
        shown = shown if len(shown) <= 30 else shown[:27] + "..."
        raise ModelFileError(_("{name} has format version {shown} ({dtype}); this app reads versions {mlp} (MLPs) "
                               "and {cnn} (layer stacks, CNNs), each a single whole number").format(
            name=as_is(name), shown=shown, dtype=version.dtype, mlp=FORMAT_VERSION, cnn=CNN_FORMAT_VERSION))
    if int(version) == CNN_FORMAT_VERSION:
        return _cnn_from_arrays(files, name)
    for key in ("sizes", "activation", "loss"):
        if key not in files:
            raise ModelFileError(_("{name} is not a Digits-from-Scratch model: key '{key}' is missing").format(
                name=as_is(name), key=key))
    sizes = files["sizes"]
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or not (2 <= len(sizes) <= MAX_LAYERS + 1):
        raise ModelFileError(_("{name}: 'sizes' must be a list of 2 to {most} whole numbers").format(
            name=as_is(name), most=MAX_LAYERS + 1))
    sizes = [int(s) for s in sizes]
    if min(sizes) < 1 or max(sizes) > MAX_UNITS:
        raise ModelFileError(_("{name}: layer sizes {sizes} must be between 1 and {most}").format(
            name=as_is(name), sizes=as_is("-".join(map(str, sizes))), most=num(MAX_UNITS)))
    n_params = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMS:     # checked before Network() allocates anything
        raise ModelFileError(_("{name} is too big: layer sizes {sizes} make {n} weights and biases; a model may "
                               "have at most {most}").format(name=as_is(name), sizes=as_is("-".join(map(str, sizes))),
                                                             n=num(n_params), most=num(MAX_PARAMS)))
    activation, loss = _text(files, "activation", name), _text(files, "loss", name)
    if activation not in ACTIVATIONS:
        raise ModelFileError(_("{name}: unknown activation '{activation}'").format(
            name=as_is(name), activation=as_is(activation)))
    if loss not in LOSSES:
        raise ModelFileError(_("{name}: unknown loss '{loss}'").format(name=as_is(name), loss=as_is(loss)))
    settings, notes = clean_settings(_settings(files, name))
    net = Network(sizes, activation, loss, seed=0)
    _within_budget(net, name)
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        for key, shape in ((f"W{l}", (n_out, n_in)), (f"b{l}", (n_out,))):
            if key not in files:
                raise ModelFileError(_("{name}: '{key}' is missing for layer {l} of {n}").format(
                    name=as_is(name), key=key, l=l + 1, n=len(sizes) - 1))
            arr = _weights(files, key, shape, name, _("for layer sizes {sizes}").format(
                sizes=as_is("-".join(map(str, sizes)))))
            (net.weights if key[0] == "W" else net.biases)[l] = arr
    extra = sorted(set(files) - {"format_version", "kind", "sizes", "activation", "loss", "settings"}
                   - {f"{c}{l}" for l in range(len(sizes) - 1) for c in "Wb"})
    if extra:
        raise ModelFileError(_("{name}: unexpected arrays {arrays} (more layers than 'sizes' says?)").format(
            name=as_is(name), arrays=as_is(", ".join(extra))))
    return net, settings, notes


def _within_budget(net, name):
    """ModelFileError if `net` is over the budget that the Train page applies too (budget.py)."""
    try:
        check_model(net)
    except ValueError as err:
        raise ModelFileError(_("{name} is too big for this app: {why}").format(name=as_is(name), why=err)) from None


def _settings(files, name):
    """The file's training settings as read from its JSON (cleaned afterwards by clean_settings)."""
    if "settings" not in files:
        return {}
    text = _text(files, "settings", name)
    if len(text) > MAX_SETTINGS_CHARS:
        raise ModelFileError(_("{name}: '{key}' is {n} characters long; at most {most} are read").format(
            name=as_is(name), key="settings", n=num(len(text)), most=num(MAX_SETTINGS_CHARS)))
    try:
        settings = json.loads(text)
    except RecursionError:
        raise ModelFileError(_("{name}: '{key}' is nested too deeply to read").format(
            name=as_is(name), key="settings")) from None
    except ValueError:      # not JSON, or a number with thousands of digits
        raise ModelFileError(_("{name}: '{key}' is not valid JSON").format(name=as_is(name), key="settings")) from None
    if not isinstance(settings, dict):
        raise ModelFileError(_("{name}: 'settings' must be a JSON object").format(name=as_is(name)))
    return settings


def _weights(files, key, shape, name, why):
    """files[key] as float32 of the given shape, finite and at most MAX_ABS_PARAM, else ModelFileError."""
    arr = files[key]
    if arr.dtype.kind != "f":
        raise ModelFileError(_("{name}: '{key}' has dtype {dtype}, expected floating point").format(
            name=as_is(name), key=key, dtype=arr.dtype))
    if arr.shape != shape:
        raise ModelFileError(_("{name}: '{key}' has shape {shape}, expected {expected} {why}").format(
            name=as_is(name), key=key, shape=arr.shape, expected=shape, why=why))
    with np.errstate(over="ignore", invalid="ignore"):
        arr = arr.astype(DTYPE)       # checked after the cast: 1e300 as float64 becomes inf
    if not np.isfinite(arr).all():
        raise ModelFileError(_("{name}: '{key}' contains NaN or infinite values (or values too large for "
                               "float32)").format(name=as_is(name), key=key))
    if arr.size and np.abs(arr).max() > MAX_ABS_PARAM:
        raise ModelFileError(_("{name}: '{key}' holds values up to {value}; weights and biases above {most} are "
                               "refused").format(name=as_is(name), key=key, value=as_is(f"{np.abs(arr).max():.3g}"),
                                                 most=num(int(MAX_ABS_PARAM))))
    return arr


def _spec_is_plain(spec):
    """A layer stack as a file may hold it: a list of dicts of known names, each value a whole
    number or a short text (no floats, booleans, lists or objects: ConvNet checks the numbers)."""
    if not isinstance(spec, list) or not 1 <= len(spec) <= MAX_SPEC_LAYERS:
        return False
    for d in spec:
        if not isinstance(d, dict) or not set(d) <= SPEC_KEYS:
            return False
        for v in d.values():
            if isinstance(v, bool) or not isinstance(v, (int, str)) or (isinstance(v, str) and len(v) > 40):
                return False
    return True


def _cnn_from_arrays(files, name):
    """A version-2 file: a ConvNet from its layer stack, checked before anything big is made."""
    for key in ("kind", "layers", "input_shape", "loss"):
        if key not in files:
            raise ModelFileError(_("{name} is not a Digits-from-Scratch model: key '{key}' is missing").format(
                name=as_is(name), key=key))
    if _text(files, "kind", name) != CNN_KIND:
        raise ModelFileError(_("{name}: a version {version} model must be of kind '{kind}'").format(
            name=as_is(name), version=CNN_FORMAT_VERSION, kind=CNN_KIND))
    loss = _text(files, "loss", name)
    if loss not in LOSSES:
        raise ModelFileError(_("{name}: unknown loss '{loss}'").format(name=as_is(name), loss=as_is(loss)))
    shape = files["input_shape"]
    if shape.shape != (3,) or shape.dtype.kind not in "iu":
        raise ModelFileError(_("{name}: 'input_shape' must be 3 whole numbers (channels, height, width)").format(
            name=as_is(name)))
    shape = tuple(int(n) for n in shape)
    if min(shape) < 1 or math.prod(shape) > MAX_INPUT_VALUES:
        raise ModelFileError(_("{name}: input shape {shape} must be at least 1 on every side and hold at most "
                               "{most} numbers").format(name=as_is(name), shape=shape, most=num(MAX_INPUT_VALUES)))
    text = _text(files, "layers", name)
    if len(text) > MAX_SPEC_CHARS:
        raise ModelFileError(_("{name}: '{key}' is {n} characters long; at most {most} are read").format(
            name=as_is(name), key="layers", n=num(len(text)), most=num(MAX_SPEC_CHARS)))
    try:
        spec = json.loads(text)
    except RecursionError:
        raise ModelFileError(_("{name}: '{key}' is nested too deeply to read").format(
            name=as_is(name), key="layers")) from None
    except ValueError:
        raise ModelFileError(_("{name}: '{key}' is not valid JSON").format(name=as_is(name), key="layers")) from None
    if not _spec_is_plain(spec):
        raise ModelFileError(_("{name}: 'layers' must be a list of 1 to {most} layers, each an object of {keys} "
                               "with whole numbers or short texts").format(
            name=as_is(name), most=MAX_SPEC_LAYERS, keys=as_is(", ".join(sorted(SPEC_KEYS)))))
    settings, notes = clean_settings(_settings(files, name))
    try:
        # max_params: ConvNet refuses before it allocates a layer that would pass the limit.
        net = ConvNet(spec, loss, seed=0, input_shape=shape, max_params=MAX_PARAMS)
    except ValueError as err:
        raise ModelFileError(_("{name}: its layers cannot make a model: {why}").format(
            name=as_is(name), why=err)) from None
    if net.sizes[-1] != 10:
        raise ModelFileError(_("{name}: the last layer has {n} outputs; a digit model has 10").format(
            name=as_is(name), n=num(net.sizes[-1])))
    _within_budget(net, name)
    arrays = []
    for l, layer in enumerate(net.weighted):
        for key, want in ((f"W{l}", layer.W.shape), (f"b{l}", layer.b.shape)):
            if key not in files:
                raise ModelFileError(_("{name}: '{key}' is missing for {layer} (layer {l} of {n} with weights)").format(
                    name=as_is(name), key=key, layer=as_is(repr(layer)), l=l + 1, n=net.n_layers))
            arrays.append(_weights(files, key, want, name, _("for {layer}").format(layer=as_is(repr(layer)))))
    extra = sorted(set(files) - {"format_version", "kind", "layers", "input_shape", "loss", "settings"}
                   - {f"{c}{l}" for l in range(net.n_layers) for c in "Wb"})
    if extra:
        raise ModelFileError(_("{name}: unexpected arrays {arrays} (more layers than 'layers' says?)").format(
            name=as_is(name), arrays=as_is(", ".join(extra))))
    net.set_params(arrays)       # shapes checked above (set_params checks them again)
    return net, settings, notes


# ---------------------------------------------------------------- settings

def _real(test):
    """A check for a finite number (not a bool: JSON's true is not a number) that passes `test`."""
    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        return (isinstance(v, int) or math.isfinite(v)) and test(v)
    return check


def _whole(low, high):
    """A check for a whole number from low to high."""
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _layer_sizes(v):
    units = _whole(1, MAX_UNITS)
    return isinstance(v, (list, tuple)) and 2 <= len(v) <= MAX_LAYERS + 1 and all(units(n) for n in v)


# What a model file's settings may hold: every field of engine/trainer.py's
# Settings, plus what engine/cli.py adds when it saves a model. Each entry is
# (check, what the value must be); the ranges are those Settings.check accepts,
# with generous upper bounds where it has none.
SETTING_RULES = {
    "sizes": (_layer_sizes, f"a list of 2 to {MAX_LAYERS + 1} layer sizes from 1 to {MAX_UNITS}"),
    "layers": (_spec_is_plain, f"a list of 1 to {MAX_SPEC_LAYERS} layers (as ConvNet.spec() gives)"),
    "activation": (lambda v: isinstance(v, str) and v in ACTIVATIONS, "one of " + ", ".join(ACTIVATIONS)),
    "loss": (lambda v: isinstance(v, str) and v in LOSSES, "one of " + ", ".join(LOSSES)),
    "optimizer": (lambda v: isinstance(v, str) and v in OPTIMIZERS, "one of " + ", ".join(OPTIMIZERS)),
    "lr": (_real(lambda v: 0 < v <= 100), "a number above 0 and at most 100"),
    "lr_decay": (_real(lambda v: 0 < v <= 1), "a number above 0 and at most 1"),
    "momentum": (_real(lambda v: 0 <= v < 1), "a number from 0 to below 1"),
    "l2": (_real(lambda v: 0 <= v <= 10), "a number from 0 to 10"),
    "batch_size": (_whole(1, 10_000_000), "a whole number from 1 to 10,000,000"),
    "epochs": (_whole(1, 100_000), "a whole number from 1 to 100,000"),
    "seed": (_whole(0, 2**63 - 1), "a whole number of at least 0"),
    "val_fraction": (_real(lambda v: 0 <= v < 0.9), "a number from 0 to below 0.9"),
    "shuffle": (lambda v: isinstance(v, bool), "true or false"),
    "init_scale": (_real(lambda v: 0 < v <= 1000), "a number above 0 and at most 1000"),
    "augment": (_real(lambda v: 0 <= v <= 1), "a number from 0 to 1"),
    # The built-in models' last epochs (scripts/train_pretrained_cnn.py --start ... --drawn-set): how many
    # synthetic drawn digits joined MNIST's, for how many of the epochs, at what learning rate, and the share
    # of each batch augment.augment_drawn changed as on a canvas.
    "augment_drawn": (_real(lambda v: 0 <= v <= 1), "a number from 0 to 1"),
    "drawn_digits": (_whole(1, 10_000_000), "a whole number from 1 to 10,000,000"),
    "drawn_epochs": (_whole(1, 100_000), "a whole number from 1 to 100,000"),
    "drawn_lr": (_real(lambda v: 0 < v <= 100), "a number above 0 and at most 100"),
    "test_accuracy": (_real(lambda v: 0 <= v <= 1), "a number from 0 to 1"),
    "dataset": (lambda v: isinstance(v, str) and 0 < len(v) <= 200, "a text of at most 200 characters"),
    "train_seconds": (_real(lambda v: 0 <= v <= 1e9), "a number of seconds of at least 0"),
}
MAX_NOTES = 10     # a file with thousands of odd settings gets a short list, not thousands of lines


def _shown(value):
    """A value, short, for a note: never the whole of a huge text or a nested list."""
    if isinstance(value, (list, tuple, dict)):
        return "an object" if isinstance(value, dict) else "a list"
    try:
        text = repr(value)
    except ValueError:          # an int of more than 4,300 digits (Python refuses to write it)
        return "a huge number"
    return text if len(text) <= 30 else text[:27] + "..."


def clean_settings(raw, rules=None):
    """Keep only the settings the app knows, each with the right type and range.

    raw: the dict read from a model file's JSON, or any settings dict about to
    be shown (it need not even be a dict). Returns (settings, notes):
    the usable settings, and one short sentence per setting dropped (unknown
    name, wrong type, out of range). rules: {name: (check, what it must be)}, SETTING_RULES
    (the digits') by default. Pages can then format every value kept
    (a learning rate is a number, an optimiser one of the known names...).
    """
    if not isinstance(raw, dict):
        return {}, ["the training settings are not a list of names and values; ignored"]
    settings, notes = {}, []
    for key, value in raw.items():
        rule = (SETTING_RULES if rules is None else rules).get(key)
        if rule is None:
            notes.append(f"unknown setting {_shown(key)} ignored")
        elif not rule[0](value):
            notes.append(f"setting '{key}' ignored: {_shown(value)} is not {rule[1]}")
        else:
            settings[key] = value
    if len(notes) > MAX_NOTES:
        notes = notes[:MAX_NOTES - 1] + [f"and {len(notes) - MAX_NOTES + 1:,} more settings ignored"]
    return settings, notes
