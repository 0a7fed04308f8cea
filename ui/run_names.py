"""Words for a run: its default name and its settings in a few words (Train and Compare
pages), and how a model was trained in a sentence (Home)."""
from engine.modelfile import clean_settings
from engine.trainer import STEERABLE, started_with, steering
from i18n import _
from ui import experiments, training
from ui.formats import LOSS_ABBREVIATIONS, LOSS_SHORT, OPTIMIZER_NAMES


def network_words(settings):
    """A run's network in a few words: '784-256-10' for an MLP, 'CNN conv 8,16 @5×5, pool 2,' for a CNN."""
    if settings.get("layers"):
        return "CNN " + training.cnn_words(settings["layers"]) + ","     # (the activation comes next)
    return "-".join(map(str, settings.get("sizes", [])))


def marks_of(record):
    """A run record's (or model info's) marks: every setting changed during the run (engine History.marks)."""
    return ((record or {}).get("history") or {}).get("marks") or []


def value_text(settings, changed, key, fmt="{:g}"):
    """One setting of a run in words, with every change made while it trained (changed: steering() of its
    marks, or that dict read back from JSON): '0.1', or '0.01 → 0.2 at batch 553' for a run started at 0.01
    and steered to 0.2 (and '→ 0.05 at batch 900' for each further change)."""
    steps = changed.get(key) or []
    if not steps:
        return fmt.format(settings.get(key, 0))
    return " ".join([fmt.format(steps[0][1])] + [_("→ {value} at batch {batch}").format(value=fmt.format(new),
                                                                                       batch=f"{int(b):,}")
                                                  for b, _old, new in steps])


def lr_text(record):
    """A run record's learning rate with every change made while it trained: '0.01 → 0.2 at batch 553'."""
    return value_text(record["settings"], steering(marks_of(record)), "lr")


def steering_text(changed, skip=()):
    """Every change of every setting during a run in a few words: 'lr 0.01 → 0.2 at batch 553' ('' if none)."""
    return ", ".join(f"{STEERABLE.get(k, k)} {value_text({}, changed, k)}" for k in changed if k not in skip)


def short_name(settings, marks=()):
    """A few words naming a run: layers, activation, loss, learning rate (every change of it, and of any other
    setting changed during the run)."""
    s, changed = settings, steering(marks)
    loss = LOSS_ABBREVIATIONS.get(s.get("loss"), s.get("loss"))
    more = steering_text(changed, skip=("lr",))
    return (f"{network_words(s)} {s.get('activation', '?')}, {loss}, lr {value_text(s, changed, 'lr')}"
            + (f", {more}" if more else ""))


def settings_summary(settings, marks=()):
    """A run's settings dict in a few words: the network, the step, the loop, and any
    other setting that differs from the defaults or changed during the run (marks)."""
    s, changed = settings, steering(marks)
    d = training.WIDGETS
    parts = [f"{network_words(s)} {s.get('activation', '?')}, "
             f"{LOSS_SHORT.get(s.get('loss'), s.get('loss'))}",
             f"{s.get('optimizer', '?')} lr {value_text(s, changed, 'lr')}",
             _("batch {batch}, {epochs} epochs").format(batch=value_text(s, changed, 'batch_size', '{}'),
                                                         epochs=value_text(s, changed, 'epochs', '{}'))]
    extra = {"lr_decay": _("decay {:g}"), "momentum": _("momentum {:g}"), "l2": "L2 {:g}", "init_scale": _("init ×{:g}"),
             "augment": _("augment {:g}"), "val_fraction": _("val {:.0%}"), "seed": _("seed {}")}
    for key, fmt in extra.items():
        if key == "momentum" and s.get("optimizer") != "momentum":
            continue
        if key in changed:
            parts.append(fmt.split(" ")[0] + " " + value_text(s, changed, key, fmt.split(" ", 1)[1]))
        elif key in s and f"train_{key}" in d and s[key] != d[f"train_{key}"]:
            parts.append(fmt.format(s[key]))
    if s.get("shuffle") is False:
        parts.append(_("no shuffling"))
    return " · ".join(parts)


def default_name(record):
    """A run record's name until the user renames it: its number, then the guided
    experiment's variant it is or a few words of its settings."""
    settings, marks = record["settings"], marks_of(record)
    preset = experiments.preset_label(started_with(settings, marks))      # the variant it started as
    steered = steering_text(steering(marks))
    if preset:
        return (_("Run {id}: {preset}, then {changes}") if steered else _("Run {id}: {preset}")).format(
            id=record["id"], preset=preset, changes=steered)
    return _("Run {id}: {name}").format(id=record["id"], name=short_name(settings, marks))


def settings_text(settings, marks=()):
    """How a model was trained, in words, from its settings dict and the marks of every change made while it
    trained (engine History.marks: 'learning rate 0.01 → 0.2 at batch 553').

    The settings may come from an uploaded file or an old session, so only the
    values of the right type and range are used (clean_settings drops the
    others): an odd value is left out instead of breaking the Home page.
    """
    settings, _dropped = clean_settings(settings)
    if not settings:
        return _("training settings unknown")
    changed = steering(marks)
    opt = settings.get("optimizer")
    parts = [_(OPTIMIZER_NAMES[opt]) if opt in OPTIMIZER_NAMES else opt or _("unknown optimiser")]
    if "lr" in settings:
        parts.append(_("learning rate {lr}").format(lr=value_text(settings, changed, 'lr')))
    if opt == "momentum" and "momentum" in settings:
        parts.append(_("momentum {momentum}").format(momentum=value_text(settings, changed, 'momentum')))
    if "batch_size" in settings:
        parts.append(_("mini-batches of {n}").format(n=value_text(settings, changed, 'batch_size', '{}')))
    if "epochs" in settings:
        parts.append(_("{n} epochs").format(n=value_text(settings, changed, 'epochs', '{}')))
    if settings.get("l2") or "l2" in changed:
        parts.append(f"L2 {value_text(settings, changed, 'l2')}")
    return ", ".join(parts)
