"""engine/explain.py: input gradients checked against finite differences in float64 (MLP and CNN, every
output kind), occlusion against a loop, the nearest images against brute force, fooling against the engine's
own prediction, and the class pictures.

    python -m pytest -q tests/test_explain.py
"""
from pathlib import Path

import numpy as np
import pytest

from engine import explain
from engine.convnet import ConvNet, cnn_spec
from engine.data import load_sample
from engine.modelfile import load_model
from engine.network import Network

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def builtin():
    return {"mlp": load_model(str(ROOT / "engine/models/pretrained.npz"))[0],
            "cnn": load_model(str(ROOT / "engine/models/pretrained_cnn.npz"))[0]}


def mlp64(activation="tanh", loss="cross-entropy", sizes=(784, 12, 9, 10)):
    net = Network(list(sizes), activation=activation, loss=loss, seed=1)
    net.weights = [w.astype(np.float64) * 3 for w in net.weights]       # larger weights: outputs far from uniform
    net.biases = [np.random.default_rng(2).normal(0, 0.3, b.shape) for b in net.biases]
    return net


def cnn64(activation="relu", loss="cross-entropy"):
    spec = cnn_spec(filters=(3, 4), k=3, pool=2, hidden=(8,), activation=activation)
    net = ConvNet(spec, loss=loss, seed=3).astype(np.float64)
    for layer in net.weighted:
        layer.b = np.random.default_rng(4).normal(0, 0.1, layer.b.shape)
    return net


def output_of(net, x, output, cls, other):
    """The output itself, computed from a plain forward pass (not from explain.blame)."""
    zs, acts = net.forward(x[None, :], keep=True)
    z, a = zs[-1][0], acts[-1][0]
    if output == "score":
        return z[cls]
    if output == "margin":
        return z[cls] - z[other]
    if output == "prob":
        return a[cls]
    y = np.zeros((1, len(z)))
    y[0, cls] = 1
    return net.loss_value(zs[-1], acts[-1], y)


def check_finite_differences(net, x, output, cls=3, other=5, n_pixels=40, h=1e-6):
    g, _ = explain.input_gradient(net, x, output, cls=cls, other=other)
    assert g.shape == (1, 784) and g.dtype == np.float64
    pixels = np.random.default_rng(0).choice(784, n_pixels, replace=False)
    numeric = []
    for i in pixels:
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        numeric.append((output_of(net, up, output, cls, other) - output_of(net, down, output, cls, other)) / (2 * h))
    numeric = np.array(numeric)
    assert np.abs(numeric).max() > 1e-6, "the check needs gradients that are not all zero"
    np.testing.assert_allclose(g[0, pixels], numeric, rtol=1e-5, atol=1e-10)


def an_image(sample, i=0):
    # Away from 0 and 1 (no clipping), with some noise so that ReLUs and max-pools are not at their kinks.
    x = sample.x_test[i].astype(np.float64) / 255 * 0.8 + 0.1
    return x + np.random.default_rng(i).normal(0, 0.01, 784)


@pytest.mark.parametrize("output", explain.OUTPUTS)
@pytest.mark.parametrize("activation,loss", [("tanh", "cross-entropy"), ("relu", "cross-entropy"), ("sigmoid", "mse")])
def test_mlp_input_gradient_matches_finite_differences(sample, output, activation, loss):
    check_finite_differences(mlp64(activation, loss), an_image(sample), output)


@pytest.mark.parametrize("output", explain.OUTPUTS)
@pytest.mark.parametrize("activation,loss", [("relu", "cross-entropy"), ("tanh", "mse")])
def test_cnn_input_gradient_matches_finite_differences(sample, output, activation, loss):
    check_finite_differences(cnn64(activation, loss), an_image(sample, 1), output)


def test_mlp_with_no_hidden_layer_and_the_guess_as_default_class(sample):
    net = mlp64(sizes=(784, 10))
    x = an_image(sample, 2)
    guess = int(net.predict(x[None, :])[0])
    g, _ = explain.input_gradient(net, x, "score")
    np.testing.assert_allclose(g[0], net.weights[0][guess])            # a linear model's gradient is its weights
    # gradient x input adds up to the score's change from a blank page (exact for a linear model)
    gx = explain.gradient_times_input(g[0], x)
    z = lambda v: net.forward(v[None, :], keep=True)[0][-1][0, guess]   # noqa: E731
    assert gx.sum() == pytest.approx(z(x) - z(np.zeros(784)), rel=1e-9)


def test_the_shared_cnn_is_left_as_it_was(builtin, sample):
    cnn = builtin["cnn"]
    before = [p.copy() for p in cnn.params()]
    for p in cnn.params():
        p.flags.writeable = False                # like ui/state's shared copy
    try:
        explain.input_gradient(cnn, sample.test_float()[:3], "loss", cls=1)
    finally:
        for p in cnn.params():
            p.flags.writeable = True
    assert cnn.layers[0].need_dx is False          # training still skips the image's gradient
    assert all(not hasattr(layer, "cols") for layer in cnn.layers[:1])   # nothing kept on the shared layers
    assert all(np.array_equal(a, b) for a, b in zip(before, cnn.params()))


def test_unknown_output_is_refused(builtin):
    with pytest.raises(ValueError, match="unknown output"):
        explain.input_gradient(builtin["mlp"], np.zeros(784, np.float32), "logits")
    with pytest.raises(ValueError, match="other class"):
        explain.input_gradient(builtin["mlp"], np.zeros(784, np.float32), "margin", cls=1)


# ---------------------------------------------------------------- occlusion

@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_occlusion_equals_a_loop(builtin, sample, kind):
    net, x = builtin[kind], sample.test_float()[5]
    patch, stride = 8, 5
    occ = explain.occlusion(net, x, patch=patch, stride=stride)
    p = net.predict_proba(x[None, :])[0]
    assert occ.cls == int(p.argmax()) and occ.p == pytest.approx(float(p.max()))
    starts = list(range(0, 28 - patch + 1, stride))              # 0, 5, 10, 15, 20
    assert occ.drops.shape == (len(starts), len(starts))
    total, count = np.zeros((28, 28)), np.zeros((28, 28))
    for a, r in enumerate(starts):
        for b, c in enumerate(starts):
            img = x.reshape(28, 28).copy()
            img[r:r + patch, c:c + patch] = 0
            drop = p[occ.cls] - net.predict_proba(img.reshape(1, 784))[0, occ.cls]
            assert occ.drops[a, b] == pytest.approx(drop, abs=1e-5)
            total[r:r + patch, c:c + patch] += drop
            count[r:r + patch, c:c + patch] += 1
    expected = np.where(count > 0, total / np.maximum(count, 1), 0).ravel()
    np.testing.assert_allclose(occ.pixel_map, expected, atol=1e-5)


# ---------------------------------------------------------------- nearest images

@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_nearest_images_are_the_nearest_by_brute_force(builtin, sample, kind):
    net = builtin[kind]
    train = sample.x_train[:3000].astype(np.float32) / 255
    feats = explain.hidden_features(net, train, chunk=700)      # chunks must not change anything
    query = sample.test_float()[7]
    q = explain.hidden_features(net, query)[0]
    # Independently: the last hidden layer by hand, for the MLP
    if kind == "mlp":
        np.testing.assert_allclose(feats, np.maximum(train @ net.weights[0].T + net.biases[0], 0), rtol=1e-5,
                                   atol=1e-5)
    for rows, point in [(feats, q), (train, query)]:           # in the hidden layer, and in raw pixels
        idx, dist = explain.NearestIndex(rows).nearest(point, k=8)
        brute = np.sqrt(((rows.astype(np.float64) - point.astype(np.float64)) ** 2).sum(axis=1))
        best = np.sort(brute)[:8]
        np.testing.assert_allclose(brute[idx], best, rtol=1e-4, atol=1e-4)   # the same 8 distances, nearest first
        np.testing.assert_allclose(dist, brute[idx], rtol=1e-3, atol=1e-3)
        assert len(set(idx.tolist())) == 8


def test_search_rows_are_fixed_and_bounded():
    assert np.array_equal(explain.search_rows(500, limit=1000), np.arange(500))
    a, b = explain.search_rows(60_000), explain.search_rows(60_000)
    assert len(a) == 10_000 and np.array_equal(a, b) and np.all(np.diff(a) > 0)


# ---------------------------------------------------------------- fooling

@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("norm", ["l2", "sign"])
def test_fooling_really_changes_the_engines_answer(builtin, sample, kind, norm):
    net = builtin[kind]
    x = sample.test_float()[:6]
    right = net.predict(x)
    target = (right + 1 + np.arange(6) % 9) % 10                  # a different target for each
    fooled = explain.fool(net, x, target, norm=norm, step=0.1 if norm == "l2" else 0.01)
    assert fooled.flipped.all()
    for i in range(6):       # one image at a time through the engine's own predict: the target
        assert net.predict(fooled.x[i:i + 1])[0] == target[i]
        assert fooled.after[i].argmax() == target[i] and fooled.before[i].argmax() == right[i]
    assert fooled.x.min() >= 0 and fooled.x.max() <= 1
    assert (explain.changed_pixels(fooled.change(x), at_least=1e-6) > 0).all()
    if norm == "l2":       # a small change: most pixels moved by less than a tenth of full ink
        assert (explain.changed_pixels(fooled.change(x)) < 392).all()
    assert (fooled.steps >= 1).all()


def test_fooling_refuses_the_answer_it_already_gives(builtin, sample):
    x = sample.test_float()[0]
    with pytest.raises(ValueError, match="already"):
        explain.fool(builtin["mlp"], x, int(builtin["mlp"].predict(x[None, :])[0]))


def test_fooling_stops_after_max_steps(builtin, sample):
    x = sample.test_float()[:2]
    target = (builtin["cnn"].predict(x) + 5) % 10
    fooled = explain.fool(builtin["cnn"], x, target, step=1e-4, max_steps=3)
    assert not fooled.flipped.any() and (fooled.steps == 3).all()


# ---------------------------------------------------------------- class pictures

def test_smoothness_gradient_matches_finite_differences():
    img = np.random.default_rng(0).random((28, 28))
    _, grad = explain.smoothness(img)
    for (r, c) in [(0, 0), (5, 7), (27, 13), (14, 27)]:
        up, down = img.copy(), img.copy()
        up[r, c] += 1e-6
        down[r, c] -= 1e-6
        assert grad[r, c] == pytest.approx((explain.smoothness(up)[0] - explain.smoothness(down)[0]) / 2e-6, rel=1e-5)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_dream_makes_the_network_see_the_class(builtin, kind):
    net = builtin[kind]
    frames = list(explain.dream(net, 3, steps=30, every=10))
    assert [t for t, _, _ in frames] == [10, 20, 30]
    blank = net.predict_proba(np.zeros((1, 784), np.float32))[0, 3]
    t, x, p = frames[-1]
    assert p > 0.9 > blank and net.predict(x[None, :])[0] == 3
    assert x.min() >= 0 and x.max() <= 1 and x.max() > 0.3
    # smoother than the same ascent with no penalty
    rough = list(explain.dream(net, 3, steps=30, every=30, smooth=0))[-1][1]
    assert explain.smoothness(x.reshape(28, 28))[0] < explain.smoothness(rough.reshape(28, 28))[0]


# ---------------------------------------------------------------- the panels in the app (AppTest)

DRAW, EVALUATE = "app_pages/6_draw.py", "app_pages/5_evaluate.py"
PANELS = ["pixels", "cover", "seen", "fool", "dream"]
COUNTED = ["input_gradient", "occlusion_steps", "hidden_features", "fool_steps", "dream"]


@pytest.fixture
def calls(monkeypatch):
    """How often the app called each explanation of engine/explain.py (AppTest runs the app in this process)."""
    from collections import OrderedDict
    from ui import explain as panels
    monkeypatch.setattr(panels, "_indexes", OrderedDict())      # no training images read by an earlier test
    counts = dict.fromkeys(COUNTED, 0)
    for name in COUNTED:
        def counted(*args, _f=getattr(explain, name), _name=name, **kwargs):
            counts[_name] += 1
            return _f(*args, **kwargs)
        monkeypatch.setattr(explain, name, counted)
    return counts


def settle():
    """Wait for the training images being read in the background (ui/explain.py hidden_index)."""
    from ui import explain as panels
    for future in list(panels._indexes.values()):
        future.result()


def drawing():
    from test_pretrained_cnn import _drawn_seven
    return _drawn_seven()


def open_panels(at, where, names=PANELS):
    for name in names:
        at.session_state[f"{where}_xp_{name}"] = True
    at.run()
    assert not at.exception, at.exception


def expander(at, label_start):
    found = [e for e in at.expander if e.label.startswith(label_start)]
    assert len(found) == 1, [e.label for e in at.expander]
    return found[0]


def images_in(node):
    out = [node] if getattr(node, "type", "") == "image" else []
    for child in getattr(node, "children", {}).values():
        out += images_in(child)
    return out


def text_in(node):
    own = str(node.value) if getattr(node, "type", "") in ("markdown", "caption") else ""
    return " ".join([own] + [text_in(c) for c in getattr(node, "children", {}).values()])


def check_panels(at, net, x):
    """Every panel shows pictures, each with words (alt text), and says what the engine computes."""
    from apptest_utils import get
    guess = int(net.predict(x[None, :])[0])
    assert "Why did it say that?" in " ".join(s.value for s in [*at.header, *at.subheader])    # h2 on Draw, h3 on Evaluate
    assert f"It said **{guess}**." in " ".join(c.value for c in at.caption)
    for label in ["Which pixels", "Cover it up", "What it has seen", "The smallest change", "What it thinks"]:
        pics = images_in(expander(at, label))
        assert pics, f"no picture in {label}"
        assert all(img.alt.strip() for p in pics for img in p.proto.imgs), f"a picture without words in {label}"
    # Fooling: the page's changed digit really is read as the target by the engine
    target = at.selectbox(key=f"{at.session_state['explain_where']}_x_target").value
    fooled = [v for k, v in get(at, "explain_results").items() if k[0] == "fool"][-1]
    assert fooled.target[0] == target and net.predict(fooled.x)[0] == target
    assert f"the network says **{target}**" in text_in(expander(at, "The smallest change"))
    # The nearest images: 8 and 8, with their labels
    seen = images_in(expander(at, "What it has seen"))
    assert [len(p.proto.imgs) for p in seen] == [8, 8]
    assert "of 8 are" in text_in(expander(at, "What it has seen"))


def draw_page(model=None):
    from apptest_utils import canvas_state, open_page
    at = open_page(DRAW)
    if model is not None:
        at.session_state["model"] = model
        at.session_state["model_info"] = {"label": "your model (test)"}
    at.session_state["draw_canvas_0"] = canvas_state(drawing())
    at.session_state["explain_where"] = "draw"
    at.run()
    assert not at.exception, at.exception
    return at


def trained(kind, sample):
    from engine.convnet import cnn_spec as spec
    from engine.trainer import Settings, new_run
    settings = {"mlp": Settings(sizes=(784, 32, 10), epochs=1),
                "mse mlp": Settings(sizes=(784, 32, 10), activation="sigmoid", loss="mse", optimizer="sgd", lr=3.0,
                                    batch_size=10, epochs=1),
                "cnn": Settings(layers=spec(filters=(4, 8)), optimizer="adam", lr=0.003, epochs=1)}[kind]
    run = new_run(sample.x_train[:3000], sample.y_train[:3000], settings)
    run.run()
    return run.net


@pytest.mark.usefixtures("builtin_sample")
def test_draw_panels_compute_only_when_open_and_never_twice(builtin, calls):
    at = draw_page()
    settle()
    assert len(at.expander) == 5
    # closed panels compute nothing; the built-in models read the training images in the background at once
    assert all(calls[k] == 0 for k in COUNTED if k != "hidden_features")
    assert calls["hidden_features"] == 2                                 # the built-in MLP and CNN, once each
    open_panels(at, "draw")
    x = at.session_state["draw_last_x"]
    check_panels(at, builtin["cnn"], x)      # the first answer: the built-in CNN
    settle()
    first = dict(calls)
    assert all(first[name] >= 1 for name in COUNTED)
    at.run()                                                            # a rerun that changed nothing
    assert not at.exception and calls == first
    at.selectbox(key="draw_x_why").set_value(1).run()                   # "why not 1?": one new gradient
    assert not at.exception
    assert calls["input_gradient"] == first["input_gradient"] + 1
    assert {k: v for k, v in calls.items() if k != "input_gradient"} == \
           {k: v for k, v in first.items() if k != "input_gradient"}
    assert "why 7 and not 1" in text_in(expander(at, "Which pixels")) or \
           "minus the score of **1**" in text_in(expander(at, "Which pixels"))
    target = at.selectbox(key="draw_x_target").options[-1]
    at.selectbox(key="draw_x_target").set_value(int(target)).run()      # another target: fooled again
    assert not at.exception and calls["fool_steps"] == first["fool_steps"] + 1
    check_panels(at, builtin["cnn"], x)      # the first answer: the built-in CNN
    at.selectbox(key="draw_x_dream").set_value(8).run()                 # the 8 forms, frame by frame
    assert not at.exception and calls["dream"] == first["dream"] + 1
    captions = [c for p in images_in(expander(at, "What it thinks")) for c in p.captions]
    assert captions[0] == "the start: the average training digit" and "sure it is an 8" in captions[-1]


def default_cnn_after(sample, batches=60):
    """The Train page's default CNN (kind=cnn, every other knob as it opens), trained `batches` steps on the
    built-in sample by the engine's Trainer with the default seed: the student's CNN of issue 22."""
    from engine.trainer import new_run
    from ui.training import settings_from_values
    run = new_run(sample.x_train, sample.y_train, settings_from_values({"train_kind": "cnn"}))
    run.run(batches=batches)
    return run.net


@pytest.mark.usefixtures("builtin_sample")
def test_the_class_picture_forms_for_a_freshly_trained_default_cnn(sample):
    """All 8 first-layer biases of this model are negative: from a blank page its input gradient is exactly zero
    and the picture stayed a blank square ("9% sure it is a 3"). From the average digit it forms."""
    net = default_cnn_after(sample)
    assert (net.layers[0].b < 0).all()                        # the case of the issue
    blank = np.zeros(784, np.float32)
    assert not explain.input_gradient(net, blank, "loss", cls=3)[0].any()
    at = draw_page(net)
    open_panels(at, "draw", ["dream"])
    pictures = [img for p in images_in(expander(at, "What it thinks")) for img in p.proto.imgs]
    captions = [c for p in images_in(expander(at, "What it thinks")) for c in p.captions]
    stored = [v for k, v in at.session_state["explain_results"].items() if k[0] == "dream"][-1]
    frames = stored[0] if isinstance(stored, tuple) else stored       # (frames, stuck)
    t, x, p = frames[-1]
    start = explain.mean_digit(sample.x_train)
    assert t == 60 and p > 0.5 and p == pytest.approx(net.predict_proba(x[None, :])[0, 3], abs=1e-6)
    assert np.abs(x - start).max() > 0.3                      # the picture moved away from where it started
    assert len(pictures) == 2 and captions[0] == "the start: the average training digit"
    assert captions[1].startswith("step 60: the network is") and "sure it is a 3" in captions[1]
    assert "average of the 10,000 training digits" in text_in(expander(at, "What it thinks"))


@pytest.mark.usefixtures("builtin_sample")
def test_a_class_picture_that_cannot_form_says_why(sample, monkeypatch):
    """A model whose gradient is zero at the start: the page says why the picture stays as it is."""
    net = default_cnn_after(sample, batches=1)
    net.layers[0].b[:] = -1e3                                 # no first-layer unit can fire on any picture
    at = draw_page(net)
    open_panels(at, "draw", ["dream"])
    assert "cannot form for this model" in " ".join(i.value for i in at.info)


@pytest.mark.usefixtures("builtin_sample")
@pytest.mark.parametrize("kind", ["mlp", "mse mlp", "cnn"])
def test_draw_panels_for_a_trained_model(sample, kind):
    net = trained(kind, sample)
    at = draw_page(net)
    open_panels(at, "draw")
    assert "your model (test)" in " ".join(c.value for c in at.caption)
    check_panels(at, at.session_state["model"], at.session_state["draw_last_x"])


@pytest.mark.usefixtures("builtin_sample")
@pytest.mark.parametrize("model", ["builtin", "trained cnn"])
def test_evaluate_panels_for_every_mistake_picked(builtin, sample, model):
    from apptest_utils import open_page
    at = open_page(EVALUATE)
    if model != "builtin":
        at.session_state["model"] = trained("cnn", sample)
        at.session_state["model_info"] = {"label": "your model (test)"}
    at.session_state["explain_where"] = "eval"
    at.run()
    open_panels(at, "eval")
    net = at.session_state["model"] if model != "builtin" else builtin["mlp"]
    picker = at.selectbox(key="eval_mistake")
    for option in picker.options[:2]:                                    # "test image 385: true 9, predicted 4"
        pick = int(option.split(":")[0].split()[-1])
        at.selectbox(key="eval_mistake").set_value(pick).run()
        assert not at.exception, at.exception
        x = sample.test_float()[pick]
        assert net.predict(x[None, :])[0] != sample.y_test[pick]            # it is a mistake
        check_panels(at, net, x)


@pytest.mark.usefixtures("builtin_sample")
def test_draw_panels_explain_the_second_opinion_when_picked(builtin):
    at = draw_page()
    assert at.segmented_control(key="draw_x_model").options == ["the built-in CNN", "the built-in MLP"]
    at.session_state["draw_x_model"] = "the built-in MLP"
    open_panels(at, "draw")
    check_panels(at, builtin["mlp"], at.session_state["draw_last_x"])
    from engine.analysis import fingerprint
    kept = at.session_state["explain_results"]
    assert {k[1] for k in kept} == {fingerprint(builtin["mlp"])}           # every result is the MLP's


@pytest.mark.usefixtures("builtin_sample")
def test_a_model_with_overflowing_numbers_gets_words_not_an_error():
    broken = Network([784, 8, 10], seed=0)
    broken.weights[0][:] = 3e38                        # float32 overflows to infinity on the way up
    at = draw_page(broken)
    open_panels(at, "draw")
    assert "not finite numbers" in " ".join(w.value for w in at.warning)
    assert not any(e.label.startswith("Which pixels") for e in at.expander)


@pytest.mark.usefixtures("builtin_sample")
def test_opening_draw_starts_reading_both_built_in_models_features_before_any_drawing():
    """The slow part of "What it has seen like this" (about 2 s for the CNN) starts as the page opens."""
    from apptest_utils import open_page
    from ui import explain as panels
    mlp = load_model(str(ROOT / "engine" / "models" / "pretrained.npz"))[0]
    cnn = load_model(str(ROOT / "engine" / "models" / "pretrained_cnn.npz"))[0]
    from engine.analysis import fingerprint
    wanted = {fingerprint(mlp), fingerprint(cnn)}
    with panels._indexes_lock:
        panels._indexes.clear()
    at = open_page(DRAW)
    assert not at.exception, at.exception
    assert "Why did it say that?" not in " ".join(h.value for h in at.header)    # nothing drawn yet
    with panels._indexes_lock:
        started = dict(panels._indexes)
    assert {key[0] for key in started} == wanted
    for future in started.values():
        index = future.result(timeout=120)
        assert len(index.F) == panels.POOL
