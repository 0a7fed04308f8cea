"""Language-model files: the weights and the vocabulary they were trained with, in one .npz.

Version 3 of the app's model files (1: MLPs, 2: layer stacks; engine/modelfile.py):
    format_version  int, 3
    kind            the string "digits-from-scratch-lm"
    model           JSON string: the model's spec (models.py), e.g.
                    {"kind": "transformer", "vocab": 65, "context": 64, "width": 128, "blocks": 4, "heads": 4}
    vocab           int32 (V,): the characters' Unicode code points, in id order (sorted, distinct)
    settings        JSON string: how it was trained (LMSettings and a few more; may be "{}")
    P0, P1, ...     float32, in the model's params() order

The same safety rules as engine/modelfile.py (whose archive reader this uses): allow_pickle=False,
every size bounded before anything is allocated (models.spec_params against MAX_LM_PARAMS, each
array's declared size), every key, shape, dtype and value checked, and anything wrong is a
ModelFileError in one sentence naming the file.
"""
import io
import json

import numpy as np

from i18n import _, num

from ..files import atomic_write
from ..modelfile import (LM_FORMAT_VERSION, ModelFileError, _real, _settings, _text, _weights, _whole,
                         clean_settings, read_archive)
from .models import KINDS, MAX_LM_PARAMS, MAX_VOCAB, build_model, spec_params
from .text import CORPORA, Vocabulary

LM_KIND = "digits-from-scratch-lm"
MAX_MODEL_CHARS = 1_000          # the spec's JSON: about 90 characters
SPEC_KEYS = {"kind", "vocab", "context", "width", "blocks", "heads", "embed", "hidden"}
MAX_LM_MEMBERS = 5 + 60          # 5 named arrays + weights (a 4-block transformer has 54)
MAX_CODE_POINT = 0x10FFFF

TEXTS = (*CORPORA, "yours")        # which text a run learned: a corpus that ships with the app, or the user's own
LM_SETTING_RULES = {
    "kind": (lambda v: v in KINDS, "one of " + ", ".join(KINDS)),
    "optimizer": (lambda v: v in ("sgd", "momentum", "adam", "adamw"), "one of sgd, momentum, adam, adamw"),
    "lr": (_real(lambda v: 0 < v <= 10), "a number above 0 and at most 10"),
    "min_lr": (_real(lambda v: 0 <= v <= 10), "a number from 0 to 10"),
    "weight_decay": (_real(lambda v: 0 <= v <= 10), "a number from 0 to 10"),
    "grad_clip": (_real(lambda v: 0 <= v <= 1e6), "a number from 0 to 1e6"),
    "val_fraction": (_real(lambda v: 0 < v < 0.9), "a number above 0 and below 0.9"),
    "window": (lambda v: v is None or _whole(1, 1024)(v), "a whole number from 1 to 1,024"),
    "val_loss": (_real(lambda v: 0 <= v <= 100), "a number of nats from 0 to 100"),
    "train_seconds": (_real(lambda v: 0 <= v <= 1e9), "a number of seconds of at least 0"),
    "corpus": (lambda v: isinstance(v, str) and 0 < len(v) <= 200, "a text of at most 200 characters"),
    "text": (lambda v: v in TEXTS, "one of " + ", ".join(TEXTS)),
    **{k: (_whole(low, high), f"a whole number from {low} to {high:,}") for k, low, high in (
        ("context", 1, 1024), ("width", 1, 1024), ("blocks", 1, 4), ("heads", 1, 4), ("embed", 1, 1024),
        ("hidden", 1, 4096), ("warmup", 0, 10_000_000), ("batch_size", 1, 4096), ("steps", 1, 10_000_000),
        ("seed", 0, 2**63 - 1), ("eval_every", 1, 10_000_000), ("eval_tokens", 1, 10_000_000),
        ("sample_chars", 0, 10_000), ("step", 0, 10_000_000))},
}


def lm_arrays(model, vocab, settings=None):
    """The arrays of a language-model file, as a dict."""
    if vocab.size != model.V:
        raise ValueError(_("the vocabulary has {n} characters, the model {V}").format(n=num(vocab.size), V=num(model.V)))
    arrays = {"format_version": np.array(LM_FORMAT_VERSION), "kind": np.array(LM_KIND),
              "model": np.array(json.dumps(model.spec())),
              "vocab": np.array([ord(c) for c in vocab.chars], dtype=np.int32),
              "settings": np.array(json.dumps(settings or {}, default=str))}
    for i, p in enumerate(model.params()):
        arrays[f"P{i}"] = np.asarray(p, dtype=np.float32)
    return arrays


def lm_to_bytes(model, vocab, settings=None):
    """The file's content as bytes (for a download button)."""
    buf = io.BytesIO()
    np.savez(buf, **lm_arrays(model, vocab, settings))
    return buf.getvalue()


def save_language_model(path, model, vocab, settings=None):
    """Save model, vocabulary and settings to `path`, atomically."""
    arrays = lm_arrays(model, vocab, settings)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def settings_of(run_settings, **more):
    """What a file keeps of a run's LMSettings (plus e.g. val_loss=..., corpus=...)."""
    return {**run_settings.as_dict(), **more}


def load_language_model(source, name=None):
    """(model, vocab, settings, notes) from a path, bytes or file object. ModelFileError, naming the
    file and what is wrong, for anything that is not a valid language-model file; settings that are
    unknown or out of range are dropped with a note each (engine/modelfile.clean_settings)."""
    files, name = read_archive(source, name, max_members=MAX_LM_MEMBERS)
    for key in ("format_version", "kind", "model", "vocab"):
        if key not in files:
            raise ModelFileError(_("{name} is not a language model of this app: key '{key}' is missing").format(
                name=name, key=key))
    version = files["format_version"]
    if version.shape != () or version.dtype.kind not in "iu" or int(version) != LM_FORMAT_VERSION:
        raise ModelFileError(_("{name} has format version {version!r}; language models are version {lm}").format(
            name=name, version=version, lm=LM_FORMAT_VERSION))
    if _text(files, "kind", name) != LM_KIND:
        raise ModelFileError(_("{name}: a version {lm} model must be of kind '{kind}'").format(
            name=name, lm=LM_FORMAT_VERSION, kind=LM_KIND))
    text = _text(files, "model", name)
    if len(text) > MAX_MODEL_CHARS:
        raise ModelFileError(_("{name}: 'model' is {n} characters long; at most {most} are read").format(
            name=name, n=num(len(text)), most=num(MAX_MODEL_CHARS)))
    try:
        spec = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelFileError(_("{name}: 'model' is not valid JSON").format(name=name)) from None
    if not isinstance(spec, dict) or not set(spec) <= SPEC_KEYS or "kind" not in spec or any(
            isinstance(v, bool) or not isinstance(v, (int, str)) for v in spec.values()):
        raise ModelFileError(_("{name}: 'model' must be an object of {keys} holding whole numbers and the "
                               "kind").format(name=name, keys=", ".join(sorted(SPEC_KEYS))))
    try:
        n = spec_params(spec)                  # before anything is allocated
    except ValueError as err:
        raise ModelFileError(_("{name}: its model cannot be built: {reason}").format(name=name, reason=err)) from None
    if n > MAX_LM_PARAMS:
        raise ModelFileError(_("{name} is too big: its model would have {n} weights; at most {most}").format(
            name=name, n=num(n), most=num(MAX_LM_PARAMS)))
    vocab = _vocab(files["vocab"], spec["vocab"], name)
    settings, notes = clean_settings(_settings(files, name), LM_SETTING_RULES)
    model = build_model(spec)
    params = model.params()
    arrays = [_weights(files, f"P{i}", p.shape, name, _("for the {kind}'s weight array {i} of {n}").format(
                  kind=model.kind, i=i + 1, n=len(params)))
              if f"P{i}" in files else _missing(name, i, len(params)) for i, p in enumerate(params)]
    extra = sorted(set(files) - {"format_version", "kind", "model", "vocab", "settings"}
                   - {f"P{i}" for i in range(len(params))})
    if extra:
        raise ModelFileError(_("{name}: unexpected arrays {arrays} (more weights than its model has?)").format(
            name=name, arrays=", ".join(extra[:5])))
    model.set_params(arrays)
    return model, vocab, settings, notes


def _missing(name, i, n):
    raise ModelFileError(_("{name}: '{key}' is missing (the model has {n} weight arrays)").format(
        name=name, key=f"P{i}", n=n))


def _vocab(arr, V, name):
    if arr.dtype.kind not in "iu" or arr.shape != (V,):
        raise ModelFileError(_("{name}: 'vocab' must be {V} whole numbers (the characters' code points), found "
                               "{dtype} of shape {shape}").format(name=name, V=V, dtype=arr.dtype, shape=arr.shape))
    codes = arr.astype(np.int64)
    if V > MAX_VOCAB or codes.min() < 0 or codes.max() > MAX_CODE_POINT or ((codes >= 0xD800) & (codes <= 0xDFFF)).any():
        raise ModelFileError(_("{name}: 'vocab' holds numbers that are not characters (Unicode code points)").format(
            name=name))
    if (np.diff(codes) <= 0).any():
        raise ModelFileError(_("{name}: 'vocab' must list each character once, in sorted order").format(name=name))
    return Vocabulary(tuple(chr(int(c)) for c in codes))

