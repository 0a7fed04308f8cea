"""The language model's PyTorch page (app_pages/15_pytorch_language.py) with and without torch, its code
pairs, and the exported language-model notebook executed headless (nbclient, a python3 kernel)."""
import sys
from pathlib import Path

import nbformat
import pytest
from apptest_utils import get, open_page, texts
from nbclient import NotebookClient

from bridge import language_notebook
from engine.language.trainer import LMSettings
from ui.code import source_of
from ui.language.pytorch import FLAG, STEPS, within

ROOT = Path(__file__).resolve().parent.parent
PAGE = "app_pages/15_pytorch_language.py"


def test_each_pytorch_snippet_is_the_twins_code():
    """What the page shows on the PyTorch side is in bridge/language_twin.py, line for line ('...' skips)."""
    twin = (ROOT / "bridge" / "language_twin.py").read_text(encoding="utf-8")
    for step in STEPS:
        for line in step.torch.splitlines():
            if line.strip() != "...":
                assert line.strip() in twin, (step.title, line)


def test_page_with_torch_compares_every_gradient():
    torch = pytest.importorskip("torch")
    assert torch
    at = open_page(PAGE)
    assert len(at.code) == 2 * len(STEPS)
    assert "class CausalSelfAttention" not in texts(at.code)      # methods shown, not whole classes
    assert source_of(STEPS[3].engine)[0] in [c.value for c in at.code]
    assert "is_causal=True" in texts(at.code)
    assert "pip install -r requirements-torch.txt" not in texts(at.info)
    at.selectbox(key="lmpt_blocks").set_value(1)
    at.number_input(key="lmpt_steps").set_value(5)
    at.button(key="lmpt_run").click().run(timeout=180)
    assert not at.exception, at.exception
    result = get(at, "lm_pytorch_result")
    check = result["check"]
    assert len(check.grads) == 2 + 12 + 4 == len(result["names"])     # one block: every weight array
    assert check.worst < FLAG
    table = at.dataframe[0].value
    assert len(table) == 2 + len(check.grads) and set(table["within 1e-5"]) == {"✅"}
    assert list(table["what"])[:3] == ["logits", "loss", "gradient of the token embedding"]
    assert "Same model" in texts(at.success)
    ours, theirs, _, _ = result["race"]
    assert 1 <= len(ours) == len(theirs) <= 5
    assert max(abs(a - b) for a, b in zip(ours, theirs)) < 1e-3
    assert f"Both trained {len(ours)} step{'s' if len(ours) > 1 else ''}" in texts(at.markdown)
    assert at.get("download_button")


def test_page_compares_the_sessions_language_model():
    """With no model of the session's own, "your language model" is the built-in transformer: its weights
    (not a fresh model's) go through both."""
    pytest.importorskip("torch")
    from ui.language.model import BUILTIN_PATH
    from engine.language.modelfile import load_language_model
    builtin = load_language_model(BUILTIN_PATH)[0]
    at = open_page(PAGE)
    at.radio(key="lmpt_which").set_value("mine").run()
    at.number_input(key="lmpt_steps").set_value(1)
    at.button(key="lmpt_run").click().run(timeout=180)
    assert not at.exception, at.exception
    result = get(at, "lm_pytorch_result")
    assert "**Both trained 1 step** of" in texts(at.markdown)        # one step: the singular
    from ui.formats import seconds_text
    _, _, t_ours, t_theirs = result["race"]                          # a quick step is not "0.00 s"
    assert [m.value for m in at.metric][:2] == [f"{seconds_text(t_ours)} s", f"{seconds_text(t_theirs)} s"]
    assert result["n_params"] == builtin.n_params() and not result["fresh"]
    check = result["check"]
    assert len(check.grads) == len(builtin.params()) and check.worst < 1e-4
    assert all(within(d, v) for d, v in zip([check.logits, check.loss] + check.grads, check.scales))
    assert "Same model" in texts(at.success)
    assert "your language model's weights" in texts(at.markdown)


def test_page_without_torch_still_teaches(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)       # `import torch` now fails, as if not installed
    at = open_page(PAGE)
    assert len(at.code) == 2 * len(STEPS)
    assert "pip install -r requirements-torch.txt" in texts(at.info)
    assert not [b for b in at.button if b.key == "lmpt_run"]
    assert at.get("download_button")


def test_the_race_is_bounded_in_time():
    pytest.importorskip("torch")
    from bridge.language_twin import train_both
    from engine.language.models import build_model
    from engine.language.text import load_corpus, prepare
    p = prepare(load_corpus("names"))
    s = LMSettings(context=16, width=32, blocks=1, heads=2, batch_size=8, steps=2000, warmup=5)
    ours, theirs, t1, t2 = train_both(build_model(s.spec(p.vocab.size)), p.train_ids, s, s.steps, seconds=0.3)
    assert len(ours) == len(theirs) < 2000 and t1 + t2 < 5     # 2000 steps take about 20 s


@pytest.mark.parametrize("corpus", ["names", None])
def test_exported_notebook_runs_and_asserts_equal_logits(corpus, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("DIGITS_FROM_SCRATCH", str(ROOT))
    if corpus is None:
        (tmp_path / language_notebook.OWN_TEXT).write_text("the cat sat on the mat. " * 40, encoding="utf-8")
    s = LMSettings(context=16, width=32, blocks=2, heads=2, batch_size=8, steps=7, warmup=2, eval_every=10**6,
                   seed=4)
    text = language_notebook.to_bytes(language_notebook.build(s.as_dict(), corpus))
    nb = nbformat.reads(text.decode(), as_version=4)
    nbformat.validate(nb)
    assert "'seed': 4" in text.decode() and "is_causal=True" in text.decode()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "a cell did not run"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    last = "".join(o.get("text", "") for o in code[-1].outputs)
    assert "assert largest < 1e-05" in code[-1].source
    assert "logits match: largest difference" in last and "gradients match" in last
    assert "7 steps in" in "".join(o.get("text", "") for c in code for o in c.outputs)
    assert (tmp_path / "language_model.npz").exists()


def test_the_notebook_reproduces_the_sessions_run_not_the_pages_knobs(tmp_path, monkeypatch):
    """#23: "Download as notebook" exported a run of the PyTorch page's knobs. It is the session's run: its settings,
    text and seed, for the steps it took; executed, the notebook's held-out loss is the app's, to 4 decimals."""
    pytest.importorskip("torch")
    from test_app_train_language import PAGE as TRAIN, finish, tiny

    from ui.language import pytorch
    monkeypatch.setenv("DIGITS_FROM_SCRATCH", str(ROOT))
    at = tiny(open_page(TRAIN), steps=30, kind="transformer")
    at.number_input(key="lmt_seed").set_value(5).run()
    at.button(key="lmt_start").click().run()
    assert finish(at) == "finished"
    trained, app_loss = get(at, "lmt_trainer").settings.as_dict(), get(at, "lmt_result")["val_loss"]
    asked = []
    real = pytorch.download_button
    monkeypatch.setattr(pytorch, "download_button", lambda *a: asked.append(a) or real(*a))
    at.switch_page(PAGE).run()
    at.selectbox(key="lmpt_width").set_value(64).run()               # the page's knobs say something else
    assert not at.exception, at.exception
    settings, corpus, steps, loss = asked[-1][1:]
    assert settings.as_dict() == trained and (corpus, steps) == ("names", 30) and loss == round(app_loss, 4)
    assert "your language model's run" in texts(at.markdown) and "seed 5, 30 steps" in texts(at.markdown)

    nb = nbformat.reads(language_notebook.to_bytes(language_notebook.build(settings.as_dict(), corpus, steps, loss))
                        .decode(), as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert f"held-out loss: {app_loss:.4f} nats per character" in printed, printed
    assert "30 steps in" in printed and "gradients match" in printed
