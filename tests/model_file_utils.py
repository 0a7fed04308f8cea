"""Model files for the tests: archives made by hand, and random damage done to them
(shared by the MLP and CNN file tests)."""
import io
import zipfile

import numpy as np


def npz(arrays, compressed=False):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def corrupt(content, rng):
    """content with one random kind of damage."""
    b = bytearray(content)
    kind = rng.integers(4)
    if kind == 0:                                          # flip a few bytes
        for i in rng.integers(len(b), size=rng.integers(1, 8)):
            b[i] ^= int(rng.integers(1, 256))
    elif kind == 1:                                        # cut it short
        del b[rng.integers(1, len(b)):]
    elif kind == 2:                                        # insert random bytes
        at = rng.integers(len(b))
        b[at:at] = rng.bytes(int(rng.integers(1, 16)))
    else:                                                  # zero a range
        at, n = rng.integers(len(b)), rng.integers(1, 64)
        b[at:at + n] = bytes(len(b[at:at + n]))
    return bytes(b)


def corrupt_member(content, rng):
    """content with one member's .npy bytes damaged, zipped again with right checksums: the
    damage gets past zipfile's CRC check to numpy's and the loader's checks."""
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        members = {name: z.read(name) for name in z.namelist()}
    name = sorted(members)[rng.integers(len(members))]
    members[name] = corrupt(members[name], rng)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def fuzz_loads(plain, compressed, n, seed):
    """Load n random corruptions of a model file (of its plain and compressed copies,
    and damage past the zip checksums). Each is refused with a ModelFileError naming
    the file, or loads: the loaded networks are yielded for the caller to check.
    Both outcomes must happen, or the fuzzing did not reach both paths."""
    from engine.modelfile import ModelFileError, load_model_with_notes
    rng = np.random.default_rng(seed)
    loaded = refused = 0
    for i in range(n):
        content = corrupt_member(plain, rng) if i % 3 == 2 else corrupt((plain, compressed)[i % 3], rng)
        try:
            net, settings, notes = load_model_with_notes(content, name="fuzz.npz")
        except ModelFileError as err:
            assert str(err).startswith("fuzz.npz")
            refused += 1
            continue
        loaded += 1
        assert isinstance(settings, dict) and all(isinstance(note, str) for note in notes)
        yield net
    assert loaded and refused, (loaded, refused)
