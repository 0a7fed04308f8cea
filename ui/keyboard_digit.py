"""A keyboard way to give the Draw page a digit: pick an MNIST test image by its number.

For students who cannot draw with a mouse (or use a screen reader): a switch
(Tab, then Space) and a number box (type a number, Enter, or the arrow keys).
The picture goes through the same preprocessing as a drawing, so the page
shows its guess and the same steps.
"""
import streamlit as st

from ui import state

SWITCH, NUMBER = "draw_keyboard", "draw_test_index"


def picked_image():
    """The switch and number box; the picked test image as a (28, 28) grey image with
    bright ink on black (like the canvas), or None when the switch is off."""
    on = st.toggle("⌨️ Use a test image instead of drawing", key=SWITCH, persist_state="session",
                   help="Pick a handwritten digit from the test set by its number: "
                        "no mouse needed, the guess appears as text.")
    if not on:
        return None
    data = state.dataset()
    n = len(data.y_test)
    st.session_state[NUMBER] = min(int(st.session_state.get(NUMBER, 0)), n - 1)
    index = st.number_input(f"Test image number (0-{n - 1})", 0, n - 1, step=1, key=NUMBER,
                            persist_state="session", help="Type a number and press Enter, or use the arrow keys.")
    st.caption(f"Using test image {index} (label {data.y_test[index]}) instead of the canvas: "
               "switch off to draw again.")
    return data.x_test[index].reshape(28, 28)
