"""Train: every knob of the engine, live charts while it learns, save and load models.

The settings live in the address too (lesson links, ui/lesson.py); guided experiments load
ready-made settings; presenter mode (ui/presenter.py) shows only the main controls.
"""
import streamlit as st

from engine.modelfile import model_to_bytes
from engine.network import ACTIVATIONS
from engine.optim import OPTIMIZERS
from i18n import N_, _, as_is, ngettext, num, pct
from ui import charts, class_set, experiments, formats, lesson, limits, pages, pictures, presenter, run_names, state, training
from ui import translation
from ui import convolution as conv
from ui.chart_cache import show
from ui.notebook_button import download_button as notebook_button

# The activations' names as the menu shows them (the values stay the engine's names).
ACTIVATION_NAMES = {"relu": N_("relu"), "sigmoid": N_("sigmoid"), "tanh": N_("tanh"), "leaky_relu": N_("leaky_relu")}

st.title(pages.title("train"))
data = state.dataset()
st.caption(_("Training data: {source} ({n_train} training images, "
             "{n_test} test images kept aside for the final check).").format(
    source=formats.source_text(data.source), n_train=num(len(data.x_train)), n_test=num(len(data.x_test))))

training.restore_widgets()
status = training.status()
busy = status in training.ACTIVE
lesson.read_url(busy)       # a lesson link's settings, applied once when the page opens with them
present = presenter.on()    # presenter mode: only the main controls, bigger text
if lesson.notes():
    st.warning(_("Some settings in this link were ignored:") + "\n\n" + "\n".join(f"- {n}" for n in lesson.notes()))

# ------------------------------------------------------------------ guided experiments
with st.expander(_("🧪 Guided experiments"), expanded=False):
    st.write(_("Each button loads a small experiment into the settings below (and into the address, so you can "
               "share it). Press **Start**, watch, and read why it happens. Then compare runs on **Compare runs**."))
    for i, exp in enumerate(experiments.EXPERIMENTS):
        if i:
            st.divider()
        st.markdown(f"**{i + 1}. {_(exp['title'])}**")
        cols = st.columns(len(exp["variants"]) + (1 if len(exp["variants"]) == 1 else 0))
        for col, label in zip(cols, exp["variants"]):
            col.button(_(label), key=f"exp_{exp['id']}_{list(exp['variants']).index(label)}", icon="🧪",
                       on_click=experiments.load_preset, args=(exp["id"], label), disabled=busy, width="stretch")
        st.markdown(_("👀 **What to look for:** {text}").format(text=_(exp["look_for"])))
        st.markdown(_("💡 **Why:** {text}").format(text=_(exp["why"])))
loaded = st.session_state.pop("lesson_loaded", None)
if loaded:
    st.success(_("Loaded **{experiment}** into the settings. Press **Start**.").format(
        experiment=f"{_(loaded[0])}: {_(loaded[1])}"), icon="🧪")

# ------------------------------------------------------------------ settings
steer = dict(disabled=status == "stopping", on_change=training.steer if busy else None)   # may change mid-run
with st.expander(_("Settings (during a run only the learning rate, momentum, L2 and batch size can change)")
                 if busy else _("Settings"),
                 expanded=not busy):
    lo = lesson.limits             # widget limits = lesson-link limits (ui/lesson.py)
    # Presenter mode: three wide columns (loss next to the learning rate), the rest hidden.
    c1, c2, c3, c4 = st.columns(4) if not present else (*st.columns(3), None)
    c1.markdown(_("**The network**"))
    # Labels worked out in the run's language (AppTest calls format_func outside the script run).
    kinds = {k: _(words) for k, words in training.KINDS.items()}
    cnn = c1.radio(_("Kind"), list(training.KINDS), key="train_kind", format_func=kinds.get,
                   horizontal=True, disabled=busy,
                   help=_("MLP: every hidden unit looks at all 784 pixels, each with a weight of its own. "
                          "CNN: small filters slide over the image and look for the same stroke everywhere; "
                          "fewer weights, more arithmetic.")) == "cnn"
    if not cnn:
        c1.text_input(_("Hidden layers"), key="train_hidden", disabled=busy,
                      help=_("Units in each hidden layer, separated by commas: 128, or 256,128 for two layers. "
                             "Leave empty for no hidden layer. Input (784) and output (10) are added for you."))
    c1.selectbox(_("Activation"), ACTIVATIONS, key="train_activation", disabled=busy,
                 format_func={a: _(ACTIVATION_NAMES.get(a, a)) for a in ACTIVATIONS}.get,
                 help=_("What each hidden unit (and each CNN filter's output) does to its weighted sum z."))

    def loss_box(col):
        col.selectbox(_("Output + loss"), list(formats.LOSS_CHOICES), key="train_loss", disabled=busy,
                      format_func={k: _(v) for k, v in formats.LOSS_CHOICES.items()}.get,
                      help=_("How the 10 outputs are made and how their wrongness is measured. "
                             "Softmax + cross-entropy usually learns faster than sigmoid + MSE."))

    if not present:
        loss_box(c1)
        c1.number_input(_("Init scale"), *lo("train_init_scale"), step=0.1, format="%.2f",
                        key="train_init_scale", disabled=busy,
                        help=_("Multiplies the random start weights (1 = the usual, well-matched size)."))
    c2.markdown(_("**The loss and the step**") if present else _("**The update step**"))
    if present:
        loss_box(c2)
    if not present:
        c2.selectbox(_("Optimiser"), OPTIMIZERS, key="train_optimizer", disabled=busy,
                     format_func={k: _(v) for k, v in formats.OPTIMIZER_CHOICES.items()}.get,
                     help=_("How gradients turn into weight updates."))
    c2.number_input(_("Learning rate"), *lo("train_lr"), step=0.01, format="%.4f",
                    key="train_lr", **steer,
                    help=_("Size of each step downhill: w = w − lr × gradient. Too big and training blows up."))
    if not present:
        if "train_lr_decay" in training.WIDGETS:
            c2.number_input(_("Learning-rate decay"), *lo("train_lr_decay"), step=0.05, format="%.3f",
                            key="train_lr_decay", disabled=busy,
                            help=_("After every epoch the learning rate is multiplied by this: big steps early, "
                                   "finer ones later. 1 = no decay; 0.9 = 10% smaller each epoch."))
        c2.number_input(_("Momentum"), *lo("train_momentum"), step=0.05, format="%.3f",
                        key="train_momentum", on_change=steer["on_change"],
                        disabled=steer["disabled"] or st.session_state.get("train_optimizer") != "momentum",
                        help=_("Only for 'SGD with momentum': how much of the previous step is kept (0 = none)."))
        c2.number_input(_("L2 (weight decay)"), *lo("train_l2"), step=0.0001, format="%.4f",
                        key="train_l2", **steer,
                        help=_("Penalty on large weights, added to the loss. 0 = off."))
    c3.markdown(_("**The loop**"))
    c3.number_input(_("Epochs"), *lo("train_epochs"), step=1, key="train_epochs", disabled=busy,
                    help=_("Full passes over the training images."))
    if not present:
        c3.number_input(_("Batch size"), *lo("train_batch_size"), step=16, key="train_batch_size", **steer,
                        help=_("Images per mini-batch: one weight update per batch."))
        c3.number_input(_("Seed"), *lo("train_seed"), step=1, key="train_seed", disabled=busy,
                        help=_("Fixes the random start weights, the validation split and the shuffling: "
                               "same seed + same settings = same run."))
        c4.markdown(_("**The data**"))
        c4.slider(_("Validation share"), *lo("train_val_fraction"), step=0.05, key="train_val_fraction", disabled=busy,
                  help=_("Part of the training images held out to check for overfitting after each epoch. "
                         "They are never trained on."))
        if "train_augment" in training.WIDGETS:
            c4.slider(_("Augment"), *lo("train_augment"), step=0.1, key="train_augment", disabled=busy,
                      help=_("0 = train on the images as they are. Higher = each batch is randomly shifted, "
                             "turned and thickened a little, which helps with hand-drawn digits."))
        c4.toggle(_("Shuffle each epoch"), key="train_shuffle", disabled=busy,
                  help=_("Visit the training images in a new random order every epoch."))
        class_set.train_option(c4, disabled=busy)     # "Add our class's digits" (ui/class_set.py)
    if cnn:
        st.markdown(_("**The convolutions** (each conv layer: filters → activation → max-pooling; then the "
                      "dense layers)"))
        k1, k2, k3, k4, k5 = st.columns(5)
        k1.text_input(_("Filters per conv layer"), key="train_filters", disabled=busy,
                      help=_("How many filters each conv layer has, separated by commas: 8,16 = two conv layers, "
                             "of 8 and 16 filters (at most {layers} layers of {filters}). Each filter makes one "
                             "feature map.").format(layers=limits.MAX_CONV_LAYERS, filters=limits.MAX_FILTERS))
        for col, (label, key, step, words) in zip((k2, k3, k4, k5), (
                (_("Kernel size"), "train_kernel", 1, _("Each filter is a small square of weights, kernel × kernel "
                                                        "pixels (5 = 5×5), slid over the whole image.")),
                (_("Padding"), "train_padding", 1, _("Rings of zeros around each image before a conv layer. 0: a 5×5 "
                                                     "kernel makes a 28×28 image 24×24; padding 2 keeps it 28×28. "
                                                     "Must be smaller than the kernel.")),
                (_("Pool size"), "train_pool", 1, _("Max-pooling after each conv layer keeps the largest value of "
                                                    "every pool × pool square: 2 halves the width and height. "
                                                    "1 = no pooling.")),
                (_("Dense hidden layer"), "train_dense", 16, _("Units of one dense hidden layer between the "
                                                               "convolutions and the 10 outputs. 0 = none: the "
                                                               "feature maps go straight to the outputs.")))):
            col.number_input(label, *lo(key), step=step, key=key, disabled=busy, help=words)
    if present:
        try:
            others = run_names.settings_summary(training.settings_from_widgets(data.x_train.shape[1], 10).as_dict())
            st.caption(_("Presenter mode shows the main settings only. All of them: {settings}.").format(
                settings=as_is(others)))
        except ValueError:
            pass
    try:
        chosen = training.settings_from_widgets(data.x_train.shape[1], 10)
        cost, batch_seconds = training.check_cost(chosen, len(data.y_test), len(data.x_train))
        st.caption(_("Network: {network}. Defaults are a good start: press **Start** without changing anything.")
                   .format(network=training.network_text(chosen)))
        st.caption(_("Estimated for this server: {n} weights and biases, about {mb} MB of memory while training, "
                     "{batch} per mini-batch, {passes}.").format(
            n=num(cost.n_params), mb=num(cost.memory_bytes / 2**20, 0),
            batch=training.duration_text(batch_seconds) if batch_seconds >= 1 else _("under a second"),
            passes=training.passes_text(cost, len(data.y_test), int(round(len(data.x_train) * chosen.val_fraction)))))
    except ValueError as err:
        st.warning(formats.cannot_train_text(err))
    st.button(_("Back to defaults"), key="train_defaults", on_click=training.reset_widgets, disabled=busy)
training.save_widgets()
link_params = lesson.write_url()      # the address follows the settings, so it can be shared
with st.expander(_("🔗 Copy lesson link")):
    st.write(_("This address opens the Train page with exactly these settings in presenter mode. Send it to your "
               "students, or keep it as a bookmark (copy button at the right of the box).") if present else
             _("This address opens the Train page with exactly these settings. Send it to your students, or keep "
               "it as a bookmark (copy button at the right of the box)."))
    st.code(lesson.link(link_params), language=None, wrap_lines=True)
    st.caption(_("Only settings that differ from the defaults are in the link. Your browser's address bar "
                 "shows the same link."))

# ------------------------------------------------------------------ buttons
b = st.columns(5)
b[0].button(_("Start"), key="train_start", icon=":material/play_arrow:", type="primary", on_click=training.start,
            disabled=busy, width="stretch", help=_("Start a new run with these settings (a fresh network)."))
b[1].button(_("Pause"), key="train_pause", icon=":material/pause:", on_click=training.pause,
            disabled=status != "running", width="stretch", help=_("Pause between two mini-batches."))
b[2].button(_("Resume"), key="train_resume", icon=":material/resume:", on_click=training.resume,
            disabled=status != "paused", width="stretch", help=_("Carry on from where it paused."))
b[3].button(_("Stop"), key="train_stop", icon=":material/stop:", on_click=training.stop,
            disabled=status not in ("running", "paused"),
            width="stretch", help=_("End the run now; the network as it is becomes your model."))
b[4].button(_("Reset"), key="train_reset", icon=":material/restart_alt:", on_click=training.reset,
            disabled=status == "idle", width="stretch",
            help=_("Clear this run's charts. Your model and past runs are kept."))

training.pace_toggle(present)
if st.session_state.get("train_error"):
    st.error(st.session_state["train_error"])


# ------------------------------------------------------------------ live panel
def live_panel(ticking):
    """Draws the run as it is now. The run trains in its own thread; while it goes,
    st.fragment(run_every=...) redraws this panel every training.TICK_SECONDS,
    and `ticking` is True. A click on Pause or Stop is answered at once."""
    translation.choose()     # a fragment's rerun does not run dashboard.py, which sets the run's language
    run = training.trainer()
    if run is None:
        st.info(_("Press **Start** to train a network with the settings above. "
                  "You'll see the loss fall and the accuracy rise, live."))
        return
    now = training.sync()
    if ticking and now not in training.ACTIVE:
        st.rerun()           # the run ended (or diverged): redraw the whole page with the result
    st.progress(training.progress()["fraction"], text=training.progress_text())
    st.caption(training.numbers_text(run))        # the charts' latest numbers, in words
    if run.diverged:
        st.error(run.message)
    h = run.history
    # Side by side at a desk; full width, one under the other, on a projector (legends and axes readable).
    c1, c2, c3 = [st.container() for _ in range(3)] if presenter.on() else st.columns(3)
    steps, losses = training.batch_points(run)
    if losses:
        show(c1, charts.batch_loss_chart, steps, losses,
             height=presenter.height(230), big=presenter.on(), marks=list(h.marks))
    else:
        c1.caption(_("The loss of each mini-batch appears here."))
    epochs = list(h.epochs)
    if epochs:
        for box, what in ((c2, "loss"), (c3, "acc")):
            show(box, charts.epoch_chart, epochs, what, height=presenter.height(230),
                 total_epochs=run.settings.epochs, big=presenter.on())
    else:
        c2.caption(_("Training and validation loss appear here after the first epoch."))
        c3.caption(_("…and the accuracy."))
    if len(epochs) >= 2 and "val_loss" in epochs[0]:
        st.caption(_("Validation images are never trained on. If their loss starts rising while the "
                     "training loss keeps falling, the network is memorising rather than learning (overfitting)."))
    W = run.net.weights[0]
    n_show = min(32, W.shape[0])
    if W.ndim == 4:          # a CNN's first conv layer: (filters, 1, k, k)
        k = W.shape[-1]
        st.markdown(_("**What the first conv layer looks for** ({n} of its {total} filters)").format(
            n=n_show, total=W.shape[0]))
        words = _("{n} filters of {k}×{k} weights, each drawn as a picture: orange pixels push the "
                  "filter's output up, blue ones push it down. Each one slides over the whole image; they start "
                  "as noise and turn into small edge and stroke detectors.").format(n=n_show, k=k)
        conv.filter_pictures(W, n_show, words)       # big, apart and numbered, for the back of the room
    else:
        words = _("{n} hidden units' weights: each square is one unit's 784 weights drawn as a 28×28 "
                  "picture: orange pixels push the unit up, blue ones push it down. They start as noise and "
                  "turn into stroke detectors.").format(n=n_show)
        st.markdown(_("**What the first layer looks for** ({n} of its {total} units)").format(n=n_show,
                                                                                              total=W.shape[0]))
        st.image(pictures.weight_grid_image(W, n_units=n_show, columns=min(16, n_show), scale=2),
                 caption=words, alt=words)
    if now == "running":
        st.caption(_("You can pause, stop or switch pages at any time. On other pages the run carries on, "
                     "with its progress in the sidebar."))


# Drawn last (into this spot) so that the rest of the page is already there while it trains.
live_area = st.container()

# ------------------------------------------------------------------ result
result = st.session_state.get("train_result")
if result and training.trainer() is not None:
    if result["status"] == "diverged":
        st.warning(_("This run diverged, so it did not replace your model. Lower the learning rate and press Start."))
    else:
        st.success(_("Run {ending}: **{accuracy}** of the {n} test images right (test loss {loss}) after "
                     "{seconds} s of training. It is now your model on the Evaluate and Draw pages.").format(
            ending=formats.ending_text(result["status"]), accuracy=pct(result["test_accuracy"], 2),
            n=num(len(data.x_test)), loss=num(result["test_loss"], 4), seconds=num(result["train_seconds"], 1)))
    runs = st.session_state.get("runs", [])
    if runs and not present:
        d1, d2 = st.columns([1, 3], vertical_alignment="center")
        d1.download_button(_("History (CSV)"), icon=":material/download:", data=training.history_csv(runs[-1:]),
                           file_name=f"run_{runs[-1].get('id', len(runs))}_history.csv", mime="text/csv",
                           key="train_history_csv", on_click="ignore",
                           help=_("This run's loss and accuracy after every epoch, and the loss of each mini-batch."))
        d2.caption(_("To save a chart as a picture: hover it and click the download icon at its top right (PNG)."))

# ------------------------------------------------------------------ save / load
if not present:     # files are for the desk, not the projector
    st.divider()
    st.header(_("Your model"))
    c1, c2 = st.columns(2)
    with c2:    # first, so a model loaded just now is the one described on the left
        uploaded = st.file_uploader(_("Load a saved model"), type=["npz"], key="train_upload",
                                    max_upload_size=limits.UPLOAD_MB,     # fits the biggest model you can train
                                    help=_("A .npz file saved here before. It is checked before use; "
                                           "a bad file never replaces your current model."))
        outcome = training.load_uploaded(uploaded)
        if outcome:
            ok, message = outcome
            (st.success if ok else st.error)(message)
    net, info = state.user_model()
    with c1:
        training.measure_upload()             # an uploaded model's test accuracy, if not measured yet
        if net is None:
            st.write(_("No model of your own yet: the other pages use the built-in pretrained model. "
                       "Train one above, or load a file you saved before."))
        else:
            acc = info.get("test_accuracy")
            st.write((_("**{model}**, {origin}, {accuracy} on the test set.") if acc is not None else
                      _("**{model}**, {origin}.")).format(model=info.get("label") or _("your model"),
                                                         origin=info.get("origin", ""),
                                                         accuracy=pct(acc, 2) if acc is not None else ""))
            settings = info.get("settings") or {}
            st.download_button(_("Save model (.npz)"), icon=":material/download:",
                               data=lambda: model_to_bytes(net, settings),
                               file_name="digits_model.npz", mime="application/octet-stream",
                               key="train_download", on_click="ignore",
                               help=_("Saves the weights and settings with np.savez, like the write-up does."))
    notebook_button("train_notebook", c1)     # this run as a Jupyter notebook, NumPy then PyTorch

runs = st.session_state.get("runs", [])
if runs:
    st.caption(_("Runs this session: {n}. Latest: {runs}").format(n=len(runs), runs="; ".join(
        ngettext("{network}, {epochs} epoch, lr {lr}: {ending}, {accuracy} on the test set",
                 "{network}, {epochs} epochs, lr {lr}: {ending}, {accuracy} on the test set",
                 r['settings']['epochs']).format(
            network=as_is(r['label'].partition('(')[2].removesuffix(')')), epochs=r['settings']['epochs'],
            lr=as_is(run_names.lr_text(r)), ending=formats.ending_text(r['status']), accuracy=pct(r['test_accuracy'], 1))
        for r in runs[-3:][::-1])))
    pages.page_link("compare", label=_("Compare your runs side by side"))
class_set.submit_run()      # "Submit this run" to the class leaderboard (ui/class_set.py)

with live_area:
    ticking = training.status() in ("running", "stopping")
    st.fragment(live_panel, run_every=training.TICK_SECONDS if ticking else None)(ticking)
