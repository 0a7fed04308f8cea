"""Draw: write a digit with the mouse (or a finger) and watch the network read it."""
import numpy as np
import streamlit as st

from engine.preprocess import ALL_INK, preprocess_canvas
from i18n import _, num
from ui import a11y, charts, class_set, explain, formats, keyboard_digit, model_picker, pages, pictures, state
from ui.chart_cache import show

st.title(pages.title("draw"))
explain.warm_up()          # the nearest-images panel's slow part starts now, in the background

# The first answer: the session's own model, or the built-in CNN, the best reader of drawings (docs/drawn.md).
cnn, mlp = state.pretrained_cnn()[0], state.pretrained_model()[0]
net, name = model_picker.pick_model("draw_use_mine", built_in=(cnn, _("the built-in CNN")))
st.caption(_("Guessing with {name}.").format(name=name) if state.user_model()[0] is not None else
           _("Guessing with {name}. Train your own on the Train page to try it here.").format(name=name))

# ------------------------------------------------------------------ canvas
st.session_state.setdefault("draw_canvas_n", 0)


def clear():
    st.session_state["draw_canvas_n"] += 1      # a new key = a fresh, empty canvas


left, right = st.columns([1, 1.3], gap="large")
with left:
    from streamlit_drawable_canvas import st_canvas   # only inside a running app
    width = st.slider(_("Pen width"), 6, 40, 18, key="draw_stroke",
                      help=_("Thickness of the pen in canvas pixels. MNIST digits have thick strokes."))
    result = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000",
                       width=280, height=280, drawing_mode="freedraw", update_streamlit=True,
                       return_image_data=True, key=f"draw_canvas_{st.session_state['draw_canvas_n']}")
    st.button(_("🧹 Clear"), key="draw_clear", on_click=clear, help=_("Wipe the canvas and start again."))
    st.caption(_("Draw one digit, large, in the middle of the black square."))
    typed = keyboard_digit.picked_image()          # a keyboard way in (ui/keyboard_digit.py)

image = typed if typed is not None else result.image_data if result is not None else None
prep = preprocess_canvas(image, background="black") if image is not None else None

with right:
    if prep is not None and prep.message == ALL_INK:
        st.warning(_("{message}.").format(message=_(ALL_INK)))
    elif prep is not None and prep.empty and prep.raw.any():     # a dot or a tiny scribble
        st.info(_("That is too little ink to be a digit: draw one digit, large, across most of the black square."))
    elif prep is None or prep.empty:
        st.info(_("Draw a digit in the black square: the network's guess appears here as you draw."))
    else:
        st.session_state["draw_last_x"] = prep.x      # the "Inside the network" page can look at it
        out = net.predict_proba(prep.x[None, :])[0]
        guess = int(out.argmax())
        color = a11y.readable(charts.DIGIT_COLORS[guess], ratio=3)     # large text: 3:1
        is_prob = net.loss != "mse"
        sure = (_("{p} sure") if is_prob else "{p}").format(p=formats.output_text(out[guess], is_prob))
        a11y.announce(      # a screen reader reads the guess out whenever it changes
            f'<div style="display:flex;align-items:center;gap:1.2rem">'
            f'<div id="draw-prediction" data-digit="{guess}" aria-hidden="true" style="font-size:6rem;font-weight:800;'
            f'line-height:1;color:{color};-webkit-text-stroke:2px #333">{guess}</div>'
            '<div style="font-size:1.2rem">' + _("The network reads a {digit}").format(digit=f"<b>{guess}</b>")
            + f'<br><span style="color:#666">({sure})</span></div></div>')
        show(st, charts.probability_chart, out, is_prob, height=230, width="stretch")
        if not is_prob:
            st.caption(_("This model ends in sigmoids (MSE loss): ten scores between 0 and 1 that need not add up "
                         "to 1."))
        else:
            st.caption(_("The ten outputs of the softmax layer: one probability per digit, adding up to 100%."))
        class_set.add_to_class_set(prep, guess)     # "Add to our class set" (ui/class_set.py)

        # A second opinion on the same 784 numbers: the built-in MLP when the CNN answered, else the built-in CNN.
        second = mlp if net is cnn else cnn
        second_out = second.predict_proba(prep.x[None, :])[0]
        second_guess = int(second_out.argmax())
        says = _("The built-in MLP says {digit}") if second is mlp else _("The built-in CNN says {digit}")
        st.markdown(
            f'<div id="draw-{"mlp" if second is mlp else "cnn"}-prediction" data-digit="{second_guess}" '
            'style="font-size:1.2rem">'
            + says.format(digit=f'<b style="color:{a11y.readable(charts.DIGIT_COLORS[second_guess])};'
                                f'font-size:1.6rem">{second_guess}</b>')
            + f' <span style="color:#666">({formats.sure_text(second_out[second_guess])})</span></div>',
            unsafe_allow_html=True)
        show(st, charts.probability_chart, second_out, True, height=160, width="stretch")
        if second is mlp:
            st.caption(_("A second opinion from the built-in multi-layer perceptron (MLP), the model the pages Evaluate "
                         "and Inside the network use until you train your own. It weighs each pixel in its own place, where "
                         "the CNN looks for the same small strokes anywhere in the picture."))
        else:
            st.caption(_("A second opinion from the built-in convolutional network (CNN). It looks for "
                         "the same small strokes (edges, curves, line ends) everywhere in the picture, so a stroke it "
                         "knows counts wherever you drew it: that is why it makes fewer mistakes on MNIST's test "
                         "digits than a network that looks at each pixel in its own place."))

# ------------------------------------------------------------------ why did it say that?
if prep is not None and not prep.empty and prep.message != ALL_INK:
    explain.panels(net, prep.x, "draw", with_second=True, heading=st.header)     # h2: no heading above it here

# ------------------------------------------------------------------ preprocessing steps
if prep is not None and not prep.empty:
    st.header(_("From your drawing to 784 numbers"))
    st.write(_("The network was trained on MNIST, where every digit was prepared the same way. "
               "Your drawing gets the same treatment before the network sees it:"))
    cols = st.columns(4)
    cropped = _("Cut to the box around the ink ({h}×{w}), so where you drew doesn't matter.")
    if prep.thickened:
        cropped = _("Cut to the box around the ink ({h}×{w}), so where you drew doesn't matter. Your strokes were "
                    "very thin for this size, so they were made {px} px thicker on each side, like MNIST's pen.")
    steps = [
        (prep.raw, _("1. Raw"), _("The canvas: {h}×{w} pixels, each with some ink or none.").format(
            h=prep.raw.shape[0], w=prep.raw.shape[1])),
        (prep.cropped, _("2. Cropped"),
         cropped.format(h=prep.cropped.shape[0], w=prep.cropped.shape[1], px=prep.thickened)),
        (prep.resized, _("3. Scaled to fit 20×20"),
         _("Shrunk to {h}×{w}, keeping its shape, like the MNIST digits.").format(
             h=prep.resized.shape[0], w=prep.resized.shape[1])),
        (prep.centred, _("4. Centred in 28×28"),
         _("Placed in a 28×28 image so its centre of mass sits in the middle, like MNIST.")),
    ]
    for col, (img, title, text) in zip(cols, steps):
        col.markdown(f"**{title}**")
        col.image(pictures.ink01_image(img, size=140), width=140, alt=_("the digit at step {step}").format(step=title))
        col.caption(text)
    st.markdown(_("**5. 784 numbers**"))
    show(st, charts.flat_strip_chart, prep.x * 255, width="stretch")
    nz = int(np.count_nonzero(prep.x))
    st.caption(_("The 28 rows of step 4 laid end to end: 784 pixel values ({nz} of them with some ink), divided by "
                 "255 so the network gets numbers between 0 (no ink) and 1 (full ink), exactly like the MNIST "
                 "images. This row is all the network sees. Ink is shown dark on white, like on the Dataset "
                 "page.").format(nz=num(nz)))
