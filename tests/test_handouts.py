"""The students' handouts (ui/handouts.py) and the teacher's guide (docs/teacher.md): Home offers one
handout per lesson; every address in the guide (the handouts' among them) opens its page with its
settings; every number in the handouts is the app's, measured here again on the built-in sample with
the app's default seed. (tests/browser/test_browser_handouts.py prints them.)"""
import functools
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from apptest_utils import open_page, run_until_done, texts
from engine import analysis, layers
from engine.data import load_sample
from engine.metrics import accuracy
from engine.trainer import new_run
from ui import handouts, lesson, pages, training
from ui.state import pretrained_cnn as load_pretrained_cnn, pretrained_model as load_pretrained

pytestmark = pytest.mark.usefixtures("builtin_sample_always")     # the handouts' numbers are the sample's
ROOT = Path(__file__).resolve().parent.parent


def text(lesson_id):
    """A handout's words, as printed (tags dropped, entities read)."""
    import html
    return html.unescape(re.sub(r"<[^>]+>", " ", handouts.handout_html(lesson_id)))


def links():
    """Every (page name, query) a handout points to."""
    return sorted({(s.page, q) for x in handouts.LESSONS for s in x.steps for _, q in (s.links or (("", ""),))})


def table_pct(fraction):
    """A fraction as a page's table shows it (NumberColumn "%.1f%%": the exact value, halves rounded up)."""
    return f"{Decimal(100 * fraction).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


# A training run's figures are the same on the same computer, run after run; another kind of processor
# rounds its floats in another order (its BLAS kernels sum a matrix product otherwise), and after a few epochs
# a few test images can tip either way: measured 2026-12-07 with OPENBLAS_CORETYPE=Haswell against the
# handouts' figures (OpenBLAS's AVX-512 kernels), at most 0.4 points apart. The handouts say so (SAMPLE_NOTE).
POINTS = 1.0


def close(handout, sentence, *fractions):
    """The handout says `sentence`, each {} in it a percentage within POINTS of the app's fraction."""
    pattern = re.escape(sentence).replace(r"\{\}", r"(\d+\.\d+)%")
    found = re.search(pattern, handout)
    assert found, sentence
    for said, fraction in zip(found.groups(), fractions, strict=True):
        assert abs(float(said) - 100 * fraction) <= POINTS, (sentence, said, f"{fraction:.2%}")


@functools.cache
def data():
    return load_sample()


@functools.cache
def trained(query):
    """A lesson link's run, trained as the Train page's Start does (its settings, the default seed)."""
    values, notes = lesson.from_params(dict(parse_qsl(query)))
    assert not notes
    run = new_run(data().x_train, data().y_train, training.settings_from_values(values))
    run.run()
    return run


def test_home_offers_one_printable_handout_per_lesson(downloads):
    at = open_page()
    assert {b.key for b in at.download_button} >= {f"handout_{x.id}" for x in handouts.LESSONS}
    for x in handouts.LESSONS:
        page = downloads[f"handout-{x.id}.html"]
        page = page.decode() if isinstance(page, bytes) else page
        assert page.startswith("<!DOCTYPE html>") and "@page" in page and x.title in page
        for step in x.steps:
            assert pages.page(step.page).title in page
            for _, query in step.links:
                assert handouts.link(step.page, query).replace("&", "&amp;") in page


def test_a_handout_link_on_a_server_is_that_servers_address():
    assert handouts.link("train", "hidden=5&epochs=5", "http://school:8501") == "http://school:8501/train?hidden=5&epochs=5"
    assert urlsplit(handouts.link("why_convolutions")).path == "/why_convolutions"


def test_the_handouts_numbers_are_the_apps():
    mlp, cnn = text("mlp"), text("cnn")
    d = data()
    assert f"{len(d.y_train):,} training digits and {len(d.y_test):,} test digits" in mlp
    assert f"{d.x_train.shape[1]} numbers a digit" in mlp and int(d.x_train.max()) == 255
    assert f"has {load_pretrained()[0].n_params():,} weights and biases" in mlp

    assert POINTS == 1 and "up to one percentage point apart" in mlp       # the handouts say how close (SAMPLE_NOTE)
    run = trained("")                                       # Train with the defaults
    last = run.history.epochs[-1]
    for handout in (mlp, cnn):
        close(handout, f"{run.settings.epochs} epochs: {{}} of the {len(d.y_test):,} test images right",
              accuracy(run.net.predict(d.test_float()), d.y_test))
        close(handout, "training accuracy {}, validation accuracy {}", last["train_acc"], last["val_acc"])

    run = trained("lr=10&epochs=3")
    assert run.diverged
    where = re.search(r"diverged at epoch \d+, batch \d+", run.message).group()
    assert f"Training {where}" in mlp and int(where.rsplit(" ", 1)[1]) <= 8

    five, wide = (accuracy(trained(q).net.predict(d.test_float()), d.y_test)
                  for q in ("hidden=5&epochs=5", "hidden=128&epochs=5"))
    close(mlp, "After 5 epochs: {} of the test images with 5 units, {} with 128.", five, wide)

    mse, ce = trained("activation=sigmoid&loss=mse&optimizer=sgd&lr=0.5&batch=100&epochs=5"), \
        trained("optimizer=sgd&lr=0.5&batch=100&epochs=5")
    close(cnn, "Validation accuracy after epoch 1: {} (MSE) against {} (cross-entropy)",
          mse.history.epochs[0]["val_acc"], ce.history.epochs[0]["val_acc"])
    close(cnn, "After 5 epochs: {} against {} of the test images",
          accuracy(mse.net.predict(d.test_float()), d.y_test), accuracy(ce.net.predict(d.test_float()), d.y_test))

    x500, y500 = d.test_float()[:500], d.y_test[:500]         # what Why convolutions? moves (N_SHIFT)
    b_mlp, b_cnn = (analysis.accuracy_under_shift(m, x500, y500, [2, 4])
                    for m in (load_pretrained()[0], load_pretrained_cnn()[0]))
    assert (f"{table_pct(b_mlp[0])} against {table_pct(b_cnn[0])} at 2 px, "
            f"{table_pct(b_mlp[1])} against {table_pct(b_cnn[1])} at 4 px") in cnn

    n = layers.out_size(28, 5, 0, 1)
    assert f"(28 + 2·0 − 5)/1 + 1 = {n}: a {n}×{n} map, from 25 weights and 1 bias" in cnn

    mlp5, cnn5 = trained("epochs=5"), trained("epochs=5&kind=cnn")
    close(cnn, f"Weights: {mlp5.net.n_params():,} (MLP) against {cnn5.net.n_params():,} (CNN). Test accuracy: "
               "{} against {}", *(accuracy(r.net.predict(d.test_float()), d.y_test) for r in (mlp5, cnn5)))
    moved = [analysis.accuracy_under_shift(r.net, x500, y500, [2])[0] for r in (mlp5, cnn5)]
    close(cnn, "moved 2 px: your MLP {}, your CNN {}", *moved)

    builtin = accuracy(load_pretrained()[0].predict(d.test_float()), d.y_test)
    assert f"On the {len(d.y_test):,} MNIST test digits the built-in MLP reads {table_pct(builtin)}" in cnn


def test_the_train_page_gives_the_number_the_handout_gives(downloads):
    """The app itself (a run in its thread, started by the button) reaches the handout's number."""
    at = open_page("app_pages/4_train.py", {"hidden": "5", "epochs": "5"})
    at.button(key="train_start").click().run()
    run_until_done(at)
    shown = re.search(r"\*\*(\d+\.\d\d)%\*\* of the", texts(at.success)).group(1)
    close(text("mlp"), "{} of the test images with 5 units", float(shown) / 100)


def test_every_address_in_the_teachers_guide_opens_its_page():
    guide = (ROOT / "docs" / "teacher.md").read_text()
    addresses = set(re.findall(r"`(/[a-z_]*(?:\?[^`\s]*)?)`", guide))
    assert len(addresses) >= 15 and {handouts.link(n, q) for n, q in links()} <= addresses
    by_path = {"": pages.HOME, **{p.name: p for p in pages.PAGES}}
    for address in sorted(addresses):
        parts = urlsplit(address)
        page = by_path[parts.path.strip("/")]
        params = dict(parse_qsl(parts.query))
        at = open_page(None if page is pages.HOME else page.path, params)
        assert not at.exception, address
        assert not [w for w in at.warning if "ignored" in str(w.value)], (address, texts(at.warning))
        values, _ = lesson.from_params(params)
        assert all(at.session_state[k] == v for k, v in values.items()), address
        if params.get("present") == "1":
            assert at.session_state["presenter"], address


def test_home_says_when_the_servers_data_is_not_the_handouts():
    def box(is_sample):
        from types import SimpleNamespace

        from ui import handouts
        handouts.teacher_corner(SimpleNamespace(is_sample=is_sample, source="full MNIST from /data"))

    for is_sample in (True, False):
        at = AppTest.from_function(box, args=(is_sample,), default_timeout=60).run()
        assert not at.exception
        said = texts(at.warning)
        assert ("measured on the built-in sample; this server has full MNIST from /data loaded" in said) != is_sample


def test_the_handouts_name_real_guided_experiments():
    from ui.experiments import EXPERIMENTS
    named = {t for x in handouts.LESSONS for t in re.findall(r"Guided experiment “([^”]+)”", text(x.id))}
    assert len(named) == 4 and named <= {e["title"] for e in EXPERIMENTS}
