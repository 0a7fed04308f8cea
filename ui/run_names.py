"""Words for a run: its default name and its settings in a few words (Train and Compare
pages), and how a model was trained in a sentence (Home)."""
from engine.modelfile import clean_settings
from ui import experiments, training
from ui.formats import LOSS_ABBREVIATIONS, LOSS_SHORT, OPTIMIZER_NAMES


def network_words(settings):
    """A run's network in a few words: '784-256-10' for an MLP, 'CNN conv 8,16 @5×5, pool 2,' for a CNN."""
    if settings.get("layers"):
        return "CNN " + training.cnn_words(settings["layers"]) + ","     # (the activation comes next)
    return "-".join(map(str, settings.get("sizes", [])))


def short_name(settings):
    """A few words naming a run: layers, activation, loss, learning rate."""
    s = settings
    loss = LOSS_ABBREVIATIONS.get(s.get("loss"), s.get("loss"))
    return f"{network_words(s)} {s.get('activation', '?')}, {loss}, lr {s.get('lr', 0):g}"


def settings_summary(settings):
    """A run's settings dict in a few words: the network, the step, the loop, and any
    other setting that differs from the defaults."""
    s = settings
    d = training.WIDGETS
    parts = [f"{network_words(s)} {s.get('activation', '?')}, "
             f"{LOSS_SHORT.get(s.get('loss'), s.get('loss'))}",
             f"{s.get('optimizer', '?')} lr {s.get('lr', 0):g}",
             f"batch {s.get('batch_size', '?')}, {s.get('epochs', '?')} epochs"]
    extra = {"lr_decay": "decay {:g}", "momentum": "momentum {:g}", "l2": "L2 {:g}", "init_scale": "init ×{:g}",
             "augment": "augment {:g}", "val_fraction": "val {:.0%}", "seed": "seed {}"}
    for key, fmt in extra.items():
        if key == "momentum" and s.get("optimizer") != "momentum":
            continue
        if key in s and f"train_{key}" in d and s[key] != d[f"train_{key}"]:
            parts.append(fmt.format(s[key]))
    if s.get("shuffle") is False:
        parts.append("no shuffling")
    return " · ".join(parts)


def default_name(record):
    """A run record's name until the user renames it: its number, then the guided
    experiment's variant it is or a few words of its settings."""
    settings = record["settings"]
    return f"Run {record['id']}: " + (experiments.preset_label(settings) or short_name(settings))


def settings_text(settings):
    """How a model was trained, in words, from its settings dict.

    The settings may come from an uploaded file or an old session, so only the
    values of the right type and range are used (clean_settings drops the
    others): an odd value is left out instead of breaking the Home page.
    """
    settings, _ = clean_settings(settings)
    if not settings:
        return "training settings unknown"
    opt = settings.get("optimizer")
    parts = [OPTIMIZER_NAMES.get(opt, opt or "unknown optimiser")]
    if "lr" in settings:
        parts.append(f"learning rate {settings['lr']:g}")
    if opt == "momentum" and "momentum" in settings:
        parts.append(f"momentum {settings['momentum']:g}")
    if "batch_size" in settings:
        parts.append(f"mini-batches of {settings['batch_size']}")
    if "epochs" in settings:
        parts.append(f"{settings['epochs']} epochs")
    if settings.get("l2"):
        parts.append(f"L2 {settings['l2']:g}")
    return ", ".join(parts)
