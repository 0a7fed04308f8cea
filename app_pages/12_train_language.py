"""Train a language model: the Train page's pattern for text. Kind of model and every knob, the cost before
Start, the run in the server's line (pause, resume, stop, steering, slow motion), live loss charts and
samples printed as it learns, save and load, lesson links and presenter mode."""
import streamlit as st

import i18n
from i18n import _, ngettext, num, pct
from ui import formats, pages, presenter, training
from ui.chart_cache import show
from ui.language import charts, texts
from ui.language import train as lm

st.title(pages.title("train_language"))
st.write(_("Train a character-level language model on a text and watch it learn to write: every few steps "
           "it writes a sample with its weights of that moment. At first it is gibberish; then come spaces, "
           "short words, names and line breaks in the right places."))

lm.restore_widgets()
status = lm.sync()
busy = status in lm.ACTIVE
lm.LINK.read_url(busy)      # a lesson link's settings, applied once when the page opens with them
present = presenter.on()
if lm.LINK.notes():
    st.warning(_("Some settings in this link were ignored:") + "\n\n" + "\n".join(f"- {n}" for n in lm.LINK.notes()))

if busy:
    label, vocab = st.session_state["lmt_text"]
    st.caption(_("Training on {label} ({n} different characters). The text can be changed after the run.").format(
        label=label, n=num(vocab.size)))
    prepared = None
else:
    label, prepared = texts.choose_text()
    warning = texts.unknown_sentence(prepared, label, taken_out=True)
    if warning:
        st.info(warning)

# ------------------------------------------------------------------ settings
steer = dict(disabled=status == "stopping", on_change=lm.steer if busy else None)     # may change mid-run
lo = lm.LINK.limits
with st.expander(_("Settings (during a run only the learning rate, batch size, steps and weight decay can change)")
                 if busy else _("Settings"), expanded=not busy):
    c1, c2, c3 = st.columns(3)
    c1.markdown(_("**The model**"))
    kinds = {k: _(name) for k, name in lm.KINDS.items()}       # worked out in this run's language
    kind = c1.radio(_("Kind of model"), list(lm.KINDS), format_func=kinds.get, key="lmt_kind",
                    disabled=busy,
                    help=_("Bigram: the next character from the last one only (a table). MLP: from the last k "
                           "characters, each turned into a few numbers (Bengio et al. 2003). Transformer: "
                           "attention lets every character look back at all those before it in its context."))
    if kind == "mlp":
        c1.number_input(_("Characters back (k)"), *lo("lmt_k"), step=1, key="lmt_k", disabled=busy,
                        help=_("How many characters the MLP reads to guess the next one."))
        if not present:
            c1.number_input(_("Numbers per character (embedding)"), *lo("lmt_embed"), step=1, key="lmt_embed",
                            disabled=busy, help=_("Each character becomes this many learned numbers."))
        c1.number_input(_("Hidden units"), *lo("lmt_hidden"), step=16, key="lmt_hidden", disabled=busy,
                        help=_("Units of the tanh layer between the embeddings and the scores."))
    elif kind == "transformer":
        c1.number_input(_("Blocks"), *lo("lmt_blocks"), step=1, key="lmt_blocks", disabled=busy,
                        help=_("Attention + feed-forward blocks stacked on each other (1 to 4)."))
        c1.number_input(_("Heads"), *lo("lmt_heads"), step=1, key="lmt_heads", disabled=busy,
                        help=_("Attention heads per block (1 to 4): each looks back in its own way. "
                               "The width must be a multiple of the heads."))
        if not present:
            c1.number_input(_("Width"), *lo("lmt_width"), step=16, key="lmt_width", disabled=busy,
                            help=_("Numbers per position inside the model (C). Weights grow with its square."))
        c1.number_input(_("Context (characters read at once)"), *lo("lmt_context"), step=8, key="lmt_context",
                        disabled=busy, help=_("The longest stretch of text the model sees; attention "
                                              "compares every pair of positions in it."))
        c1.caption(_("A transformer learns better with a smaller learning rate than the MLP's and a warm-up: "
                     "with {lr_a} and {warmup} warm-up steps its validation loss on Shakespeare was {loss_a} at "
                     "step {step}, with {lr_b} and none {loss_b} (docs/language_train.md).").format(
            lr_a=num(0.003), warmup=50, loss_a=num(2.38, 2), step=200, lr_b=num(0.01), loss_b=num(2.60, 2)))
    else:
        c1.caption(_("A bigram model has no knobs: one row of scores for each character."))
    c2.markdown(_("**The step**"))
    c2.number_input(_("Learning rate"), *lo("lmt_lr"), step=0.001, format="%.4f", key="lmt_lr", **steer,
                    help=_("AdamW's step size at its highest. It can be changed during the run."))
    if not present:
        c2.number_input(_("Lowest learning rate"), *lo("lmt_min_lr"), step=0.0001, format="%.4f", key="lmt_min_lr",
                        disabled=busy, help=_("The learning rate falls along a cosine from the learning rate "
                                              "to this at the last step (nanoGPT's schedule)."))
        c2.number_input(_("Warm-up steps"), *lo("lmt_warmup"), step=10, key="lmt_warmup", disabled=busy,
                        help=_("The learning rate rises from 0 over these first steps (0 = none)."))
        c2.number_input(_("Weight decay"), *lo("lmt_weight_decay"), step=0.01, format="%.3f",
                        key="lmt_weight_decay", **steer,
                        help=_("AdamW shrinks the weights (not biases, LayerNorms or embeddings' scale) by "
                               "lr × this at every step, apart from the gradient (decoupled)."))
        c2.number_input(_("Gradient clipping"), *lo("lmt_grad_clip"), step=0.5, format="%.2f", key="lmt_grad_clip",
                        disabled=busy, help=_("The gradient's length (all weights together) is cut to this "
                                              "before each step; 0 = never."))
    c3.markdown(_("**The loop**"))
    c3.number_input(_("Steps"), *lo("lmt_steps"), step=100, key="lmt_steps", **steer,
                    help=_("Weight updates in the run, one per mini-batch. It can be raised during the run."))
    c3.number_input(_("Batch size"), *lo("lmt_batch_size"), step=8, key="lmt_batch_size", **steer,
                    help=_("Windows of text per step, each taken at a random place of the training part."))
    c3.number_input(_("Check and sample every … steps"), *lo("lmt_eval_every"), step=10, key="lmt_eval_every",
                    disabled=busy, help=_("Every this many steps: the loss on {tokens} characters of the validation "
                                          "part, and a sample of {chars} characters.").format(
                        tokens=num(lm.EVAL_TOKENS), chars=num(lm.SAMPLE_CHARS)))
    if not present:
        c3.number_input(_("Seed"), *lo("lmt_seed"), step=1, key="lmt_seed", disabled=busy,
                        help=_("Fixes the start weights, the windows and the samples: same seed + same settings "
                               "+ same text = same run."))
    if busy:
        chosen, vocab_size = lm.trainer().settings, lm.trainer().model.V
    else:
        chosen, vocab_size = None, prepared.vocab.size
    try:
        chosen = chosen or lm.settings_from_widgets()
        cost, step_seconds = lm.check_cost(chosen, vocab_size)
        st.caption(_("Model: {model}. Each step reads {batch} windows of {chars} characters.").format(
            model=lm.model_text(chosen, vocab_size), batch=num(chosen.batch_size), chars=num(chosen.sequence)))
        st.caption((_("Estimated for this server: about {mb} MB of memory while training, {ops} million operations "
                      "per step (under a second per step at the server's rated speed).") if step_seconds < 1 else
                    _("Estimated for this server: about {mb} MB of memory while training, {ops} million operations "
                      "per step ({seconds} s per step at the server's rated speed).")).format(
            mb=num(round(cost.memory_bytes / 2**20)), ops=num(round(cost.batch_flops / 1e6)),
            seconds=num(round(step_seconds))))
    except ValueError as err:
        st.warning(formats.cannot_train_text(err))
    st.button(_("Back to defaults"), key="lmt_defaults", on_click=lm.reset_widgets, disabled=busy)
lm.save_widgets()
link_params = lm.LINK.write_url()
with st.expander(_("🔗 Copy lesson link")):
    st.write(_("This address opens this page with exactly these settings and text in presenter mode (your own text "
               "is not in the link: each student pastes or uploads it).") if present else
             _("This address opens this page with exactly these settings and text (your own text is not in the "
               "link: each student pastes or uploads it)."))
    st.code(lm.LINK.link(link_params), language=None, wrap_lines=True)

# ------------------------------------------------------------------ buttons
b = st.columns(5)
b[0].button(_("Start"), key="lmt_start", icon=":material/play_arrow:", type="primary", on_click=lm.start,
            args=(prepared, label), disabled=busy, width="stretch", help=_("Start a new run: a fresh model."))
b[1].button(_("Pause"), key="lmt_pause", icon=":material/pause:", on_click=lm.pause, disabled=status != "running",
            width="stretch", help=_("Pause between two steps."))
b[2].button(_("Resume"), key="lmt_resume", icon=":material/resume:", on_click=lm.resume,
            disabled=status != "paused", width="stretch", help=_("Carry on from where it paused."))
b[3].button(_("Stop"), key="lmt_stop", icon=":material/stop:", on_click=lm.stop,
            disabled=status not in ("running", "paused"), width="stretch",
            help=_("End the run now; the model as it is becomes your language model."))
b[4].button(_("Reset"), key="lmt_reset", icon=":material/restart_alt:", on_click=lm.reset,
            disabled=status == "idle", width="stretch", help=_("Clear this run's charts and samples."))
lm.pace_toggle(present)
if st.session_state.get("lmt_error"):
    st.error(st.session_state["lmt_error"])


def live_panel(ticking, language):
    """The run as it is now, redrawn every second while it trains (its own thread trains it). language: the
    page's, kept for the fragment's own reruns (they do not pass through dashboard.py, which sets it)."""
    i18n.use(language)
    run = lm.trainer()
    if run is None:
        st.info(_("Press **{start}** to train a model with the settings above. The loss and the samples appear "
                  "here.").format(start=_("Start")))          # the button's own label
        return
    now = lm.sync()
    if ticking and now not in lm.ACTIVE:
        st.rerun()
    st.progress(run.done_fraction, text=lm.progress_text())
    st.caption(lm.numbers_text(run))
    if run.diverged:
        st.error(run.message)
    steps, losses = training.batch_points(run)
    records = list(run.history.epochs)
    c1, c2 = st.columns(2, gap="large") if not present else (st.container(), st.container())
    if losses:
        show(c1, charts.lm_loss_chart, steps, losses, records, marks=list(run.history.marks),
             height=presenter.height(260), big=present)
        c1.caption(_("Light line: the loss of each step's mini-batch. Points: at each check, the training loss "
                     "averaged over the steps since the last check, and the loss on {n} characters of the "
                     "validation part, which it never trains on.").format(n=num(run.settings.eval_tokens)))
    else:
        c1.caption(_("The loss of each step appears here."))
    samples = list(run.history.samples)
    with c2:
        st.markdown(_("**What it writes** (a sample of {chars} characters every {every} steps, newest first; ↵ is a "
                      "line break)").format(chars=num(lm.SAMPLE_CHARS), every=num(run.settings.eval_every)))
        if not samples:
            st.caption(_("The first sample comes at step {step}.").format(step=num(run.settings.eval_every)))
        for step, text in samples[::-1][:3 if present else 4]:
            r = next((r for r in records if r["step"] == step), None)
            st.caption(_("After step {step} (validation loss {loss})").format(step=num(step), loss=num(r["val_loss"], 3))
                       if r else _("After step {step}").format(step=num(step)))
            st.code(lm.one_line(text), language=None, wrap_lines=True)
    if now == "running":
        st.caption(_("You can pause, stop or switch pages at any time; the run carries on."))


live_area = st.container()

result = st.session_state.get("lmt_result")
if result and lm.trainer() is not None:
    if result["status"] == "diverged":
        st.warning(_("This run diverged, so it did not replace your language model. Lower the learning rate."))
    else:
        st.success((_("Run finished after {steps} steps and {seconds} s of training: validation loss **{loss}** nats "
                      "per character on {n} characters of the validation part, the next character guessed right "
                      "{acc} of the time. It is now your language model.") if result['status'] == 'finished' else
                    _("Run stopped early after {steps} steps and {seconds} s of training: validation loss **{loss}** "
                      "nats per character on {n} characters of the validation part, the next character guessed "
                      "right {acc} of the time. It is now your language model.")).format(
            steps=num(result['steps']), seconds=num(result['train_seconds'], 1), loss=num(result['val_loss'], 4),
            n=num(lm.EVAL_TOKENS), acc=pct(result['val_acc'], 1)))

# ------------------------------------------------------------------ save / load
if not present:
    st.divider()
    st.header(_("Your language model"))
    c1, c2 = st.columns(2)
    with c2:
        uploaded = st.file_uploader(_("Load a saved language model"), type=["npz"], key="lmt_upload",
                                    help=_("A .npz file saved here before (a language model with its characters). "
                                           "It is checked before use; a bad file never replaces your model."))
        outcome = lm.load_uploaded(uploaded)
        if outcome:
            (st.success if outcome[0] else st.error)(outcome[1])
    entry = st.session_state.get("lm_model")
    with c1:
        if entry is None:
            st.write(_("No language model yet: train one above, or load a file you saved before."))
        else:
            st.write(f"**{entry['label']}** ({entry['origin']}).")
            st.download_button(_("Save language model (.npz)"), icon=":material/download:",
                               data=lambda: lm.model_bytes(entry), file_name="language_model.npz",
                               mime="application/octet-stream", key="lmt_download", on_click="ignore",
                               help=_("The weights, the characters it knows and the settings, with np.savez."))
            if st.button(_("✍️ Write {n} characters with it").format(n=300), key="lmt_write"):
                st.session_state["lmt_n"] = st.session_state.get("lmt_n", 0) + 1
                st.session_state["lmt_written"] = (id(entry), lm.sample_now(entry, seed=st.session_state["lmt_n"]))
            written = st.session_state.get("lmt_written")
            if written and written[0] == id(entry):      # written by this model, not an earlier one
                st.code(written[1], language=None, wrap_lines=True)
                st.caption(_("Temperature {t}, with the key/value cache for a transformer.").format(t=num(0.8)))

with live_area:
    ticking = lm.status() in ("running", "stopping")
    st.fragment(live_panel, run_every=training.TICK_SECONDS if ticking else None)(ticking, i18n.current())
