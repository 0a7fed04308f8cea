"""A Jupyter notebook that reproduces a run: the NumPy network trained and tested, then its PyTorch twin
from the same initial weights, with cells asserting that their outputs and gradients match.

build(settings, sample) returns the notebook (nbformat, checked by its validator); to_bytes() gives the
file for a download button. Needs nbformat, not torch: the notebook imports torch when it runs.
"""
import pprint
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from i18n import _

TWIN_SOURCE = Path(__file__).with_name("twin.py")
TWIN_BATCHES = 20        # mini-batches both train in the notebook's last check


def _settings_code(settings):
    """Python that rebuilds the Settings dict `settings` (Settings.as_dict())."""
    d = dict(settings)
    d["sizes"] = tuple(d["sizes"])
    return "settings = Settings(**" + pprint.pformat(d, sort_dicts=False, width=100) + ")\nsettings.check()"


def build(settings, sample=True, batches=None):
    """The notebook of a run with `settings` (a Settings.as_dict()), on the built-in sample (sample=True)
    or the full MNIST found by the engine's loader; batches=None trains every epoch, a number trains
    that many mini-batches (the tests, to be quick)."""
    data_code = ("data = load_sample()                  # the built-in sample, as in the app" if sample else
                 "data = load_mnist()                   # the full MNIST: MNIST_DIR, or `python -m engine download`")
    title = _("## 3. Train the NumPy network (every epoch)") if batches is None else \
        _("## 3. Train the NumPy network ({n} mini-batches)").format(n=batches)
    cells = [
        new_markdown_cell(
            _("# Your run, in NumPy and in PyTorch\n\n"
              "Exported from **Digits from Scratch**. This notebook trains the run's network with the NumPy engine, "
              "tests it, then builds the same network in PyTorch from the same initial weights and checks that "
              "both compute the same numbers.\n\n"
              "Run it from the project's folder (or set `DIGITS_FROM_SCRATCH` to it), after "
              "`pip install -r requirements.txt -r requirements-torch.txt`.")),
        new_code_cell(
            "import os\nimport sys\n\n"
            "sys.path.insert(0, os.environ.get(\"DIGITS_FROM_SCRATCH\", os.getcwd()))   # where engine/ is\n"
            "from engine.data import load_mnist, load_sample, to_float\n"
            "from engine.trainer import Settings, new_run"),
        new_markdown_cell(_("## 1. The data\nThe engine's own loader, as the app used it.")),
        new_code_cell(data_code + "\nprint(data.source, '-', len(data.x_train), 'training and', "
                      "len(data.x_test), 'test images')"),
        new_markdown_cell(_("## 2. The run's settings\nThe seed fixes the initial weights, the validation split "
                            "and the shuffling: the same settings give the same run.")),
        new_code_cell(_settings_code(settings)),
        new_markdown_cell(title),
        new_code_cell(
            "trainer = new_run(data.x_train, data.y_train, settings)\n"
            "start = trainer.net.copy()             # the initial weights, for the PyTorch twin\n"
            f"report = trainer.run(batches={batches!r})\n"
            "print(f'{trainer.step} mini-batches in {trainer.train_seconds:.1f} s', report.message)"),
        new_code_cell(
            "test_loss, test_acc = trainer.evaluate(data.x_test, data.y_test)\n"
            "print(f'test accuracy {test_acc:.2%}, test loss {test_loss:.4f}')"),
        new_markdown_cell(
            _("## 4. The PyTorch twin\n"
              "This is `bridge/twin.py` of the app, as it is: the engine's layers as `nn.Sequential`, the weights "
              "copied as they are (the same layouts), the engine's loss and optimiser in PyTorch.")),
        new_code_cell(TWIN_SOURCE.read_text(encoding="utf-8").rstrip()),
        new_code_cell("model = torch_model(start)              # the same initial weights as the NumPy run\n"
                      "model"),
        new_markdown_cell(_("## 5. One batch through both\nLogits, loss and every gradient: the largest "
                            "difference should be float32 rounding (around 1e-6), far below 1e-4.")),
        new_code_cell(
            "check = compare(start, to_float(data.x_train[:64]), data.y_train[:64], settings.l2)\n"
            "print(check.table())\n"
            "assert not check.flagged(), check.flagged()\n"
            "print('outputs and gradients match: largest difference', f'{check.largest:.1e}')"),
        new_markdown_cell(_("## 6. Both learn from the same mini-batches\n{n} steps each, "
                            "from the same weights; rounding differences grow a little with every step.").format(
            n=TWIN_BATCHES)),
        new_code_cell(
            f"race = train_both(start, data.x_train, data.y_train, settings, batches={TWIN_BATCHES})\n"
            "print(f'NumPy {race.engine_seconds:.2f} s, PyTorch {race.torch_seconds:.2f} s')\n"
            "print(f'largest loss difference {race.loss_diff:.1e}, weights {race.weight_diff:.1e}')\n"
            "assert race.loss_diff < 1e-3, race.loss_diff\n"
            "print('the two trainings match')"),
    ]
    return notebook_of(cells)


def notebook_of(cells):
    """A Python 3 notebook of `cells`, checked by nbformat's validator."""
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nb


def to_bytes(nb):
    """The notebook as the bytes of an .ipynb file."""
    return nbformat.writes(nb).encode("utf-8")
