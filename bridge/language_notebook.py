"""A Jupyter notebook of a language-model run: the NumPy engine trains the model and saves it (model
file version 3), then, for a transformer, PyTorch re-creates it from the saved weights
(bridge/language_twin.py, included as it is) and a cell asserts that both give the same logits, loss
and gradients.

build(settings, corpus, steps, app_loss) returns the notebook (checked by nbformat's validator); to_bytes()
gives the file. The run is the app's own: the text split as the Train a language model page splits it
(ui/language/train.py _ids: the training part, then the held-out part without the characters the training
part never has), the same settings and seed, so the same windows in the same order; `steps` = the steps
the app's run took (it may have been stopped early). Needs nbformat, not torch: the notebook imports torch
when it runs.
"""
import pprint
from pathlib import Path

from nbformat.v4 import new_code_cell, new_markdown_cell

from bridge.notebook import notebook_of, to_bytes  # noqa: F401  (to_bytes: the file's bytes, for the page)

TWIN_SOURCE = Path(__file__).with_name("language_twin.py")
TOLERANCE = 1e-5          # float32 rounding; the assert of the notebook's check
OWN_TEXT = "my_text.txt"  # where the notebook reads the user's own text (it is not put in the notebook)


def _text_code(corpus):
    if corpus in ("names", "shakespeare"):
        return f"text = load_corpus({corpus!r})      # ships with the app"
    return (f"# your own text: save it as {OWN_TEXT} (UTF-8) next to this notebook\n"
            f"text = check_text(open({OWN_TEXT!r}, encoding='utf-8').read())")


def build(settings, corpus="names", steps=None, app_loss=None):
    """The notebook of a run with `settings` (LMSettings.as_dict()) on a corpus that ships with the app
    ("names", "shakespeare"), or None for the user's own text (read from my_text.txt). steps: how many
    steps to train (None: settings["steps"]); app_loss: the app's held-out loss of that run, printed next
    to the notebook's."""
    steps = settings["steps"] if steps is None else int(steps)
    transformer = settings.get("kind", "transformer") == "transformer"
    app = f"\nprint('the same run in the app: {app_loss:.4f}')" if app_loss is not None else ""
    cells = [
        new_markdown_cell(
            "# A language model, in NumPy" + (" and in PyTorch" if transformer else "") + "\n\n"
            "Exported from **Digits from Scratch**. The NumPy engine trains a character-level "
            f"{settings.get('kind', 'transformer')} and saves it"
            + ("; then PyTorch re-creates the same model from the saved weights and checks that both "
               "compute the same numbers.\n\n" if transformer else
               ". (Only the transformer has a PyTorch twin in the app.)\n\n")
            + "The run is the app's: the same text, split the same way, the same settings and seed.\n\n"
            "Run it from the project's folder (or set `DIGITS_FROM_SCRATCH` to it), after "
            "`pip install -r requirements.txt -r requirements-torch.txt`."),
        new_code_cell(
            "import os\nimport sys\n\nimport numpy as np\n\n"
            "sys.path.insert(0, os.environ.get(\"DIGITS_FROM_SCRATCH\", os.getcwd()))   # where engine/ is\n"
            "from engine.language.modelfile import load_language_model, save_language_model, settings_of\n"
            "from engine.language.text import check_text, load_corpus, prepare\n"
            "from engine.language.trainer import LMSettings, new_lm_run"),
        new_markdown_cell("## 1. The text\nIts last tenth is held out; the vocabulary is the training part's, and "
                          "held-out characters the training part never has are left out (as the app does)."),
        new_code_cell(_text_code(corpus) + "\np = prepare(text)\n"
                      "held_out = p.val_ids[p.val_ids >= 0]\n"
                      "ids = np.concatenate([p.train_ids, held_out])     # training part, then held-out part\n"
                      "print(f'{len(p.train_ids):,} training and {len(held_out):,} held-out characters, "
                      "{p.vocab.size} different ones')"),
        new_markdown_cell("## 2. The run's settings\nThe seed fixes the initial weights and the windows drawn."),
        new_code_cell("settings = LMSettings(**" + pprint.pformat(dict(settings), sort_dicts=False, width=100)
                      + ")\nsettings.val_fraction = len(held_out) / len(ids)     # the split falls between the parts\n"
                        "settings.check(len(ids))"),
        new_markdown_cell(f"## 3. Train the NumPy {settings.get('kind', 'transformer')} ({steps:,} steps) and save it"),
        new_code_cell(
            "run = new_lm_run(ids, settings, p.vocab.size, p.vocab)\n"
            f"report = run.run(batches={steps})\n"
            "print(f'{run.step} steps in {run.train_seconds:.1f} s')\n"
            "print(f'held-out loss: {run.evaluate()[0]:.4f} nats per character')" + app + "\n"
            "save_language_model('language_model.npz', run.model, p.vocab, settings_of(settings))\n"
            "print('saved language_model.npz')"),
    ]
    if transformer:
        cells += [
            new_markdown_cell(
                "## 4. The PyTorch twin\n"
                "This is `bridge/language_twin.py` of the app, as it is: the transformer as `nn.Module`s, attention "
                "with `F.scaled_dot_product_attention(is_causal=True)`, the weights copied as they are."),
            new_code_cell(TWIN_SOURCE.read_text(encoding="utf-8").rstrip()),
            new_code_cell(
                "model, vocab, saved, notes = load_language_model('language_model.npz')   # the saved weights\n"
                "torch_model = torch_transformer(model)\n"
                "torch_model"),
            new_markdown_cell(f"## 5. Same logits\nOne batch of held-out windows through both: the largest difference "
                              f"should be float32 rounding, below {TOLERANCE:g}."),
            new_code_cell(
                "import torch\n\n"
                "T = settings.context\n"
                "starts = np.random.default_rng(1).integers(0, len(p.val_ids) - T - 1, 8)\n"
                "ids = np.stack([np.maximum(p.val_ids[s:s + T], 0) for s in starts])\n"
                "targets = np.stack([np.maximum(p.val_ids[s + 1:s + T + 1], 0) for s in starts])\n"
                "ours = model.forward(ids)\n"
                "with torch.no_grad():\n"
                "    theirs = torch_model(torch.from_numpy(ids.astype(np.int64))).numpy()\n"
                "largest = float(np.abs(ours - theirs).max())\n"
                f"assert largest < {TOLERANCE!r}, largest\n"
                "print(f'logits match: largest difference {largest:.1e}')\n"
                "check = compare(model, ids, targets)\n"
                f"assert check.worst < {TOLERANCE!r}, check\n"
                "print(f'loss and all {len(check.grads)} gradients match: largest difference {check.worst:.1e}')"),
        ]
    return notebook_of(cells)
