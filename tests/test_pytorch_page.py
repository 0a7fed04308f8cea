"""The PyTorch page (app_pages/9_pytorch.py) with and without torch, its code snippets, and the exported
notebook executed headless (nbclient, a python3 kernel from ipykernel)."""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from apptest_utils import get, open_page, texts
from bridge import notebook
from bridge.side_by_side import STEPS
from engine.modelfile import load_model
from engine.trainer import Settings
from ui.state import PRETRAINED_CNN

ROOT = Path(__file__).resolve().parent.parent
PAGE = "app_pages/9_pytorch.py"
pytestmark = pytest.mark.usefixtures("builtin_sample_always")


@pytest.mark.parametrize("side", ["engine", "torch"])
def test_the_code_shown_runs(side, tmp_path, monkeypatch):
    """All the snippets of one side, one after the other, are a program that runs (it saves a file)."""
    monkeypatch.chdir(tmp_path)
    program = "\n".join(getattr(step, side) for step in STEPS)
    exec(compile(program, f"<{side} side>", "exec"), {})
    assert (tmp_path / ("model.npz" if side == "engine" else "model.pt")).exists()


def test_page_with_torch_compares_the_model():
    at = open_page(PAGE)
    assert len(at.code) == 2 * len(STEPS)
    assert "pip install -r requirements-torch.txt" not in texts(at.info)
    at.number_input(key="pytorch_batches").set_value(4)
    at.button(key="pytorch_run").click().run(timeout=180)
    assert not at.exception, at.exception
    result = get(at, "pytorch_result")
    check, race = result["check"], result["race"]
    assert check.largest < 1e-4 and not check.flagged()
    assert [r[0] for r in check.rows][:2] == ["logits", "loss"] and len(check.rows) == 6   # built-in 784-256-10
    assert len(race.engine_losses) == len(race.torch_losses) == 4 and race.loss_diff < 1e-4
    assert "Same network" in texts(at.success)
    table = at.dataframe[0].value
    assert len(table) == len(check.rows) and set(table["within 1e-4"]) == {"✅"}
    assert [m.label for m in at.metric][:2] == ["NumPy engine", "PyTorch"]
    assert at.download_button(key="pytorch_notebook")


def test_page_compares_the_sessions_cnn():
    net, saved = load_model(str(PRETRAINED_CNN))
    at = open_page(PAGE)
    at.session_state["model"] = net.copy()
    at.session_state["model_info"] = {"label": "your CNN", "settings": saved}
    at.run()
    at.number_input(key="pytorch_batches").set_value(3)
    at.button(key="pytorch_run").click().run(timeout=180)
    assert not at.exception, at.exception
    check, race = get(at, "pytorch_result")["check"], get(at, "pytorch_result")["race"]
    assert [r[0] for r in check.rows][2] == "layer 1 (conv 16@5x5): weight gradient" and len(check.rows) == 8
    assert check.largest < 1e-4 and len(race.torch_losses) == 3
    assert "your CNN" in texts(at.markdown)


def test_page_without_torch_still_teaches(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)       # `import torch` now fails, as if not installed
    at = open_page(PAGE)
    assert len(at.code) == 2 * len(STEPS)                   # the snippets are all there
    assert "pip install -r requirements-torch.txt" in texts(at.info)
    assert not [b for b in at.button if b.key == "pytorch_run"]
    assert at.download_button(key="pytorch_notebook")
    at.switch_page("app_pages/4_train.py").run()           # the rest of the app does not notice
    assert not at.exception, at.exception
    assert at.download_button(key="train_notebook")


def test_nothing_but_the_page_needs_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import bridge.notebook, bridge.twin, ui.pytorch_twin, ui.notebook_button\n"
            "assert not bridge.twin.torch_available()")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_exported_notebook_runs_and_its_checks_hold(tmp_path):
    settings = Settings(sizes=(784, 32, 10), optimizer="adam", lr=0.003, l2=1e-4, seed=3).as_dict()
    nb = notebook.build(settings, sample=True, batches=5)
    text = notebook.to_bytes(nb)
    nb = nbformat.reads(text.decode(), as_version=4)
    nbformat.validate(nb)
    assert "Settings(**{'sizes': (784, 32, 10)" in text.decode() and "'seed': 3" in text.decode()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "a cell did not run"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for c in code for o in c.outputs)
    assert "5 mini-batches" in printed and "test accuracy" in printed
    assert "outputs and gradients match" in printed and "the two trainings match" in printed


def test_notebook_settings_cell_rebuilds_a_cnn_run():
    s = Settings(layers=[{"kind": "conv2d", "filters": 4, "k": 5, "p": 0, "s": 1}, {"kind": "flatten"},
                         {"kind": "dense", "units": 10}], optimizer="adam", lr=0.002, seed=7, epochs=2)
    nb = notebook.build(s.as_dict(), sample=False)
    cell = next(c.source for c in nb.cells if c.source.startswith("settings = "))
    scope = {"Settings": Settings}
    exec(cell, scope)
    assert scope["settings"] == s
    assert any("data = load_mnist()" in c.source for c in nb.cells)
    assert any("trainer.run(batches=None)" in c.source for c in nb.cells)     # the whole run, every epoch
