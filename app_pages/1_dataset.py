"""Dataset: how images become numbers (28x28 pixels -> a row of 784 numbers)."""
import numpy as np
import streamlit as st

from engine import data as engine_data
from i18n import _, num, pct
from ui import charts, formats, pages, pictures, state
from ui import a11y
from ui.chart_cache import show
from ui.code import show_code

N_GRID = 30          # digits shown in the sample grid
MATRIX_ROWS = 40     # rows of the data matrix drawn as a picture

st.title(pages.title("dataset"))
st.write(_("A neural network never *sees* a picture. Every image reaches it as a list of numbers, "
           "one per pixel. This page follows one handwritten digit from picture to numbers."))

data = state.dataset_or_stop()

st.caption(_("Data: **{source}** — {n_train} training and {n_test} test images.").format(
    source=formats.source_text(data.source), n_train=num(len(data.y_train)), n_test=num(len(data.y_test))))


# ------------------------------------------------------------ cached summaries
# Keyed on data.source (a short string naming the dataset), so the big arrays
# are never hashed; each summary is computed once per dataset and shared.

@st.cache_data(show_spinner=False)
def class_counts(source, _y_train, _y_test):
    return np.bincount(_y_train, minlength=10), np.bincount(_y_test, minlength=10)


@st.cache_data(show_spinner=_("Averaging every image of each digit…"))
def mean_images(source, _x, _y):
    return np.stack([_x[_y == d].mean(axis=0) for d in range(10)])


@st.cache_data(show_spinner=_("Counting pixel values…"))
def pixel_value_counts(source, _x):
    # In chunks: bincount turns its input into int64, and on all of MNIST that
    # would be a 376 MB temporary copy on the shared server.
    return sum(np.bincount(_x[i:i + 5000].ravel(), minlength=256) for i in range(0, len(_x), 5000))


@st.cache_data(show_spinner=False)
def digit_positions(source, _y):
    return {d: np.flatnonzero(_y == d) for d in range(10)}


# ------------------------------------------------------------ 1. the digits
st.header(_("1 · Handwritten digits"))
st.write(_("Each example is a 28×28 grey-scale picture of one handwritten digit and its **label**, "
           "the digit a person said it shows. Here are some of the training images."))


def _follow_grid():
    """After a new filter or shuffle, zoom into the first digit of the new grid."""
    st.session_state["ds_follow"] = True


def _reshuffle():
    st.session_state["ds_seed"] = st.session_state.get("ds_seed", 0) + 1
    _follow_grid()


c1, c2, _spare = st.columns([2, 1, 4], vertical_alignment="bottom")
all_digits = _("all digits")    # (worked out in the run's language: AppTest calls format_func outside it)
choice = c1.selectbox(_("Show digit"), ["all digits"] + [str(d) for d in range(10)], key="ds_digit",
                      persist_state="session", on_change=_follow_grid,
                      format_func=lambda o: all_digits if o == "all digits" else o)
c2.button(_("🔀 Reshuffle"), key="ds_shuffle", on_click=_reshuffle, width="stretch")

pool = (np.arange(len(data.y_train)) if choice == "all digits"
        else digit_positions(data.source, data.y_train)[int(choice)])
rng = np.random.default_rng(st.session_state.get("ds_seed", 0))
shown = np.sort(rng.choice(pool, size=min(N_GRID, len(pool)), replace=False))
st.session_state["ds_shown"] = shown            # read by the tests

st.image([pictures.ink_image(data.x_train[i], scale=3) for i in shown],
         caption=[_("label {label}").format(label=data.y_train[i]) for i in shown], width=84,
         alt=a11y.digits_alt("training", shown, data.y_train))
st.caption((_("{n} of {total} training images. Dark = ink, white = paper.") if choice == "all digits" else
            _("{n} of {total} training images labelled {digit}. Dark = ink, white = paper."))
           .format(n=num(len(shown)), total=num(len(pool)), digit=choice))

# ------------------------------------------------------------ 2. class balance
st.header(_("2 · How many of each digit?"))
st.write(_("A fair dataset has roughly the same number of examples of every class, so the network "
           "cannot score well just by guessing the most common digit. The training set teaches the "
           "network; the test set is kept apart to check it on images it has never seen."))
train_counts, test_counts = class_counts(data.source, data.y_train, data.y_test)
c1, c2 = st.columns(2)
show(c1, charts.class_bar_chart, train_counts, _("Training set: {n} images").format(n=num(len(data.y_train))),
     width="stretch")
show(c2, charts.class_bar_chart, test_counts, _("Test set: {n} images").format(n=num(len(data.y_test))),
     width="stretch")

# ------------------------------------------------------------ 3. one digit, in numbers
st.header(_("3 · One image is a grid of 784 numbers"))
if st.session_state.pop("ds_follow", False) or "ds_index" not in st.session_state:
    st.session_state["ds_index"] = int(shown[0])
st.session_state["ds_index"] = min(int(st.session_state["ds_index"]), len(data.y_train) - 1)
left, right = st.columns([1, 2.2], gap="large")
with left:
    index = st.number_input(_("Training image number"), 0, len(data.y_train) - 1, step=1, key="ds_index",
                            persist_state="session",
                            help=_("Changes to the first image of the grid when you filter or reshuffle."))
    pixels = data.x_train[index]
    st.image(pictures.ink_image(pixels, scale=8),
             caption=_("image #{index}: label {label}").format(index=index, label=data.y_train[index]),
             alt=a11y.digit_alt("training", index, data.y_train[index], _("enlarged")))
    st.write(_("Each pixel holds one number from **0** (no ink, paper) to **255** (full ink). "
               "This image has {ink} pixels with some ink and {blank} blank ones.").format(
        ink=num(int((pixels > 0).sum())), blank=num(int((pixels == 0).sum()))))
    st.write(_("The pale grey cells in the grid are the zeros."))
with right:
    show(st, charts.pixel_grid_chart, pixels, size=600, width="content")

# ------------------------------------------------------------ 4. flattening
st.header(_("4 · Flattened into one row of 784"))
st.write(_("The network's input layer has one input per pixel, so the 28×28 grid is **flattened**: "
           "the 28 rows are laid end to end, top row first. Row 0 becomes positions 0-27, row 1 becomes "
           "28-55, and so on up to position 783. The picture is gone; only the order of the numbers "
           "remembers where each pixel was."))
show(st, charts.flat_strip_chart, pixels, width="stretch")
ink = np.flatnonzero(pixels)
start = int(ink[0]) // 28 * 28 if ink.size else 0
st.write(_("The first {start} numbers are all 0 (the blank rows at the top). Positions {start}–{end}, "
           "image rows {row} and {next_row}:").format(start=start, end=start + 55, row=start // 28,
                                                      next_row=start // 28 + 1))
st.code("x[{}:{}] = [{}]".format(start, start + 56, ", ".join(str(int(v)) for v in pixels[start:start + 56])),
        language=None, wrap_lines=True)
with st.expander(_("All 784 numbers of this image")):
    st.code(np.array2string(pixels.astype(int), max_line_width=112, threshold=10_000), language=None)

# ------------------------------------------------------------ 5. the data matrix
st.header(_("5 · The whole dataset is one matrix"))
n, d = data.x_train.shape
st.write(_("Stack every flattened image as one row and the dataset becomes a table of numbers of "
           "shape **[number of images, 784]**: one row per example, one column per pixel position."))
c1, c2, c3 = st.columns(3)
c1.metric(_("Training matrix x_train"), f"{num(n)} × {d}")
c2.metric(_("Test matrix x_test"), f"{num(data.x_test.shape[0])} × {data.x_test.shape[1]}")
c3.metric(_("Labels y_train"), _("{n} digits").format(n=num(len(data.y_train))))
st.image(pictures.matrix_image(data.x_train[:MATRIX_ROWS], row_px=5, col_px=1), width="stretch",
         caption=_("The first {n} rows of x_train, all 784 columns (each thin strip is one image). "
                   "Their labels: {labels}").format(n=MATRIX_ROWS,
                                                     labels=" ".join(str(v) for v in data.y_train[:MATRIX_ROWS])),
         alt=_("The first {n} rows of the training matrix as grey strips, one image per strip").format(n=MATRIX_ROWS))
st.write(_("The vertical bands are real: pixels near the borders (the left and right ends of every "
           "28-wide block) are blank in almost every image, while middle positions often hold ink. "
           "For training, every number is divided by 255, so the network reads values between 0 and 1."))
show_code(engine_data._dataset, engine_data.to_float,
          intro=_("When the data is loaded, `_dataset` flattens every 28×28 image into a row of 784 with one "
                  "`reshape` and stacks the rows into the matrix. `to_float` turns pixels into what the network "
                  "reads: every pixel divided by 255, so between 0 and 1. The trainer does this one mini-batch "
                  "at a time: the whole training set as float32 would take four times the memory."))

# ------------------------------------------------------------ 6. the average digit
st.header(_("6 · The average of each digit"))
st.write(_("Average all training images with the same label, pixel by pixel, and a blurry "
           "'typical' digit appears. Where the average is dark, most people put ink."))
means = mean_images(data.source, data.x_train, data.y_train)
st.image([pictures.ink_image(m, scale=3) for m in means],
         caption=[_("average {digit}").format(digit=d) for d in range(10)], width=84,
         alt=[_("the average of all training images of the digit {digit}").format(digit=d) for d in range(10)])
st.caption(_("Each picture is the average of the {low}–{high} training images with that label.").format(
    low=num(train_counts.min()), high=num(train_counts.max())))

# ------------------------------------------------------------ 7. pixel values
st.header(_("7 · Which pixel values occur?"))
counts = pixel_value_counts(data.source, data.x_train)
total = counts.sum()
st.write(_("Across all {total} training pixels: **{zero} are exactly 0** (paper). "
           "{dark} are 128 or more (the dark middle of the strokes) and "
           "{light} are light greys: the soft edges of the strokes, left when the "
           "digits were scanned and smoothed. The height scale is logarithmic, or the spike at 0 would "
           "hide everything else.").format(total=num(total), zero=pct(counts[0] / total, 0),
                                           dark=pct(counts[128:].sum() / total, 0),
                                           light=pct(counts[1:128].sum() / total, 0)))
show(st, charts.pixel_histogram_chart, counts, width="stretch")
