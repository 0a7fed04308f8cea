"""Language-model files (engine/language/modelfile.py, version 3): what is saved comes back the same,
with its vocabulary, and hostile or damaged files get a ModelFileError naming the file, never a
traceback, before anything big is made."""
import io
import json
import zipfile

import numpy as np
import pytest

import i18n
from engine import cli
from engine.language.generate import generate
from engine.language.modelfile import lm_arrays, lm_to_bytes, load_language_model, save_language_model
from engine.language.models import build_model
from engine.language.text import Vocabulary
from engine.modelfile import ModelFileError, load_model
from model_file_utils import corrupt, corrupt_member, npz

VOCAB = Vocabulary.of("hello world\n")
SPEC = {"kind": "transformer", "vocab": VOCAB.size, "context": 8, "width": 8, "blocks": 2, "heads": 2}


def small(spec=SPEC):
    model = build_model(spec, seed=4)
    rng = np.random.default_rng(0)
    for p in model.params():
        p += (rng.standard_normal(p.shape) * 0.1).astype(np.float32)
    return model


def refused(arrays):
    with pytest.raises(ModelFileError) as err:
        load_language_model(npz(arrays), name="up.npz")
    assert str(err.value).startswith("up.npz")
    assert "\n" not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("spec", [SPEC, {"kind": "mlp", "vocab": VOCAB.size, "context": 3, "embed": 4, "hidden": 8},
                                  {"kind": "bigram", "vocab": VOCAB.size}], ids=lambda s: s["kind"])
def test_saved_model_and_vocabulary_come_back_the_same(tmp_path, spec):
    model = small(spec)
    path = save_language_model(tmp_path / "lm.npz", model, VOCAB, {"lr": 0.001, "corpus": "mine.txt", "bogus": 1})
    back, vocab, settings, notes = load_language_model(path)
    assert vocab == VOCAB and back.spec() == model.spec()
    for a, b in zip(model.params(), back.params()):
        np.testing.assert_array_equal(a, b)
    assert settings == {"lr": 0.001, "corpus": "mine.txt"} and notes == ["unknown setting 'bogus' ignored"]
    np.testing.assert_array_equal(generate(model, [1], 20, seed=1), generate(back, [1], 20, seed=1))


def test_a_language_model_given_to_the_digit_loader_says_what_it_is():
    with pytest.raises(ModelFileError, match="language model"):
        load_model(lm_to_bytes(small(), VOCAB), name="lm.npz")


def good():
    return lm_arrays(small(), VOCAB)


HOSTILE = {
    "missing vocab": (lambda a: a.pop("vocab"), "'vocab' is missing"),
    "wrong version": (lambda a: a.update(format_version=np.array(9)), "format version"),
    "pickled spec": (lambda a: a.update(model=np.array([{"kind": "transformer"}], dtype=object)), "pickled"),
    "spec not JSON": (lambda a: a.update(model=np.array("{kind")), "not valid JSON"),
    "spec too long": (lambda a: a.update(model=np.array(" " * 5000)), "characters long"),
    "unknown kind": (lambda a: a.update(model=np.array(json.dumps({**SPEC, "kind": "rnn"}))), "kind"),
    "float width": (lambda a: a.update(model=np.array(json.dumps({**SPEC, "width": 8.5}))), "whole numbers"),
    "huge model": (lambda a: a.update(model=np.array(json.dumps({**SPEC, "width": 1024, "vocab": 2000}))),
                   "too big|cannot be built"),
    "huge context": (lambda a: a.update(model=np.array(json.dumps({**SPEC, "context": 10**9}))), "context"),
    "five blocks": (lambda a: a.update(model=np.array(json.dumps({**SPEC, "blocks": 5}))), "blocks"),
    "heads do not divide": (lambda a: a.update(model=np.array(json.dumps({**SPEC, "heads": 3}))), "heads"),
    "vocab size differs": (lambda a: a.update(vocab=a["vocab"][:-1]), "'vocab' must be"),
    "vocab not characters": (lambda a: a["vocab"].__setitem__(0, 0xD800), "not characters"),
    "vocab negative": (lambda a: a["vocab"].__setitem__(0, -5), "not characters"),
    "vocab repeated": (lambda a: a["vocab"].__setitem__(1, a["vocab"][0]), "once, in sorted order"),
    "vocab float": (lambda a: a.update(vocab=a["vocab"].astype(np.float32)), "'vocab' must be"),
    "weights wrong shape": (lambda a: a.update(P0=np.zeros((3, 3), np.float32)), "shape"),
    "weights NaN": (lambda a: a["P2"].__setitem__(0, np.nan), "NaN"),
    "weights huge": (lambda a: a["P2"].__setitem__(0, 1e30), "above"),
    "weights as text": (lambda a: a.update(P1=np.array("x")), "dtype"),
    "weight missing": (lambda a: a.pop("P5"), "'P5' is missing"),
    "extra arrays": (lambda a: a.update(P999=np.zeros(1, np.float32)), "unexpected"),
    "settings not JSON": (lambda a: a.update(settings=np.array("[")), "not valid JSON"),
    "too many arrays": (lambda a: a.update({f"X{i}": np.zeros(1) for i in range(80)}), "a model has at most"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_language_model_files_are_refused_in_one_sentence(case):
    arrays = good()
    change, words = HOSTILE[case]
    change(arrays)
    import re
    assert re.search(words, refused(arrays)), refused(arrays)


def test_declared_gigabytes_are_refused_before_reading():
    arrays = good()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in arrays.items():
            b = io.BytesIO()
            np.save(b, v)
            z.writestr(k + ".npy", b.getvalue())
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**9,)})
        z.writestr("P999.npy", header.getvalue() + bytes(1000))
    with pytest.raises(ModelFileError, match="too big"):
        load_language_model(buf.getvalue(), name="big.npz")


def test_random_damage_is_refused_or_loads_a_valid_model():
    plain = lm_to_bytes(small(), VOCAB)
    rng = np.random.default_rng(5)
    outcomes = set()
    for i in range(150):
        content = corrupt_member(plain, rng) if i % 2 else corrupt(plain, rng)
        try:
            model, vocab, _, _ = load_language_model(content, name="fuzz.npz")
        except ModelFileError as err:
            assert str(err).startswith("fuzz.npz")
            outcomes.add("refused")
            continue
        outcomes.add("loaded")
        assert all(np.isfinite(p).all() for p in model.params()) and vocab.size == model.V
    assert outcomes == {"refused", "loaded"}


def test_cli_train_evaluate_and_sample_a_language_model(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LANGUAGE", "en")            # the words below are English whatever this machine's language
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat. " * 200, encoding="utf-8")
    out = tmp_path / "lm.npz"
    assert cli.main(["train", "--lm", "--text", str(text), "--kind", "transformer", "--context", "16", "--width", "16",
                     "--blocks", "1", "--heads", "2", "--steps", "40", "--eval-every", "20", "--lr", "0.01",
                     "--warmup", "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "val loss" in printed and "saved" in printed
    assert cli.main(["evaluate", str(out)]) == 2
    assert "--text" in capsys.readouterr().err
    assert cli.main(["evaluate", str(out), "--text", str(text)]) == 0
    printed = capsys.readouterr().out
    loss = float(printed.split("loss: ")[1].split()[0])
    ppl = float(printed.split("perplexity: ")[1].split()[0])
    assert ppl == pytest.approx(np.exp(loss), abs=0.006) and loss < np.log(9)
    assert cli.main(["sample", str(out), "--chars", "50", "--seed", "3", "--prompt", "the "]) == 0
    assert capsys.readouterr().out.startswith("the ")
    assert cli.main(["sample", str(out), "--prompt", "XYZ"]) == 2
    assert "never seen" in capsys.readouterr().err
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfebad text here, long enough")
    assert cli.main(["train", "--lm", "--text", str(tmp_path / "bin.txt")]) == 2
    assert "not UTF-8" in capsys.readouterr().err


@pytest.fixture
def english_after():
    """main() sets the language of the thread it runs in: the tests after this one read English again."""
    yield
    i18n.use(i18n.SOURCE)


def test_cli_in_italian_from_the_environment(tmp_path, capsys, monkeypatch, english_after):
    """LANG=it_IT: the language command line's lines and errors in Italian; its numbers as Python writes them, for
    the scripts that read them (engine/cli.py's rule)."""
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "it_IT.UTF-8")
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat. " * 200, encoding="utf-8")
    out = tmp_path / "lm.npz"
    assert cli.main(["train", "--lm", "--text", str(text), "--kind", "bigram", "--steps", "20", "--eval-every", "10",
                     "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "perdita di validazione" in printed and "salvato" in printed, printed
    assert cli.main(["evaluate", str(out), "--text", str(text)]) == 0
    printed = capsys.readouterr().out
    loss = float(printed.split("perdita: ")[1].split()[0])
    assert float(printed.split("perplessità: ")[1].split()[0]) == pytest.approx(np.exp(loss), abs=0.006), printed
    assert cli.main(["sample", str(out), "--prompt", "XYZ"]) == 2
    assert "non ha mai visto" in capsys.readouterr().err
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfebad text here, long enough")
    assert cli.main(["train", "--lm", "--text", str(tmp_path / "bin.txt")]) == 2
    assert "non è testo UTF-8" in capsys.readouterr().err
