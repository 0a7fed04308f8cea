"""The guided experiments of the Train page, kept as data.

Each experiment: one or two variants (button label -> widget values, applied over
the defaults), what to look for and why. The effects were checked on the built-in
sample (10,000 training images) with the engine; numbers in the text are rounded.
A variant's button puts its values into the Train widgets (load_preset), and the
lesson link follows them.
"""
import streamlit as st

from i18n import N_, _
from ui import lesson, training

EXPERIMENTS = [
    {
        "id": "lr_too_high",
        "title": N_("A learning rate far too high"),
        "variants": {
            N_("Learning rate 10"): {"train_lr": 10.0, "train_epochs": 3},
        },
        "look_for": N_("Within a few dozen mini-batches the loss shoots up and the run stops with "
                       "**Training diverged…**: the engine says where and why, and your model is not replaced."),
        "why": N_("Each step moves the weights by lr × gradient. With lr 10 (and momentum adding steps up) a step "
                  "jumps right over the valley to a place where the loss is higher, so the next gradient is bigger "
                  "and the next jump bigger still. The weights grow until they blow up; the engine stops when a "
                  "weight passes 10,000 or the loss stops being a number, and keeps the last good weights."),
    },
    {
        "id": "saturation",
        "title": N_("Sigmoid with huge starting weights"),
        "variants": {
            N_("Sigmoid, init scale 30"): {"train_activation": "sigmoid", "train_init_scale": 30.0, "train_epochs": 3},
            N_("Sigmoid, init scale 1 (to compare)"): {"train_activation": "sigmoid", "train_epochs": 3},
        },
        "look_for": N_("With init scale 30 the first losses are more than ten times higher and take several "
                       "times as many mini-batches to come down; after 3 epochs it is several points behind the "
                       "scale-1 run."),
        "why": N_("Big weights make big weighted sums z, and a sigmoid is flat far from 0: its output sticks at 0 or "
                  "1 and its slope σ(z)(1 − σ(z)) is almost 0. Backprop multiplies the blame by that slope, so little "
                  "blame reaches the first layer and its units barely learn (here about three quarters of the hidden "
                  "outputs start stuck near 0 or 1). The outputs also start confidently wrong, hence the huge first loss."),
    },
    {
        "id": "tiny_hidden",
        "title": N_("A hidden layer of only 5 units"),
        "variants": {
            N_("5 hidden units"): {"train_hidden": "5", "train_epochs": 5},
            N_("128 hidden units (to compare)"): {"train_hidden": "128", "train_epochs": 5},
        },
        "look_for": N_("The 5-unit network levels off in the mid-80s %, and its *training* accuracy stays low too; "
                       "128 units get well over 90% in the same 5 epochs."),
        "why": N_("Everything the output layer knows about an image must squeeze through 5 numbers. Five features "
                  "are not enough to tell 10 digits apart, so the network underfits: it is too small to learn the "
                  "task, which is a different problem from memorising (overfitting)."),
    },
    {
        "id": "mse_vs_ce",
        "title": N_("The write-up's sigmoid + MSE vs ReLU + softmax + cross-entropy"),
        "variants": {
            N_("Sigmoid + MSE (the write-up)"): {"train_activation": "sigmoid", "train_loss": "mse",
                                              "train_optimizer": "sgd", "train_lr": 0.5,
                                              "train_batch_size": 100, "train_epochs": 5},
            N_("ReLU + softmax + cross-entropy"): {"train_activation": "relu", "train_loss": "cross-entropy",
                                               "train_optimizer": "sgd", "train_lr": 0.5,
                                               "train_batch_size": 100, "train_epochs": 5},
        },
        "look_for": N_("Same plain SGD, learning rate, batches of 100 and 5 epochs. Sigmoid + MSE creeps: on the "
                       "built-in sample, about two thirds of the validation images right after the first epoch and "
                       "mid-80s % at the end, while cross-entropy is near 90% after one epoch and mid-90s % at the "
                       "end (the full MNIST gives higher numbers and a similar gap). Compare accuracies, not "
                       "losses: the two losses use different scales. Train both, then open **Compare runs**."),
        "why": N_("With sigmoid outputs and MSE, an output's blame is (a − y)·σ′(z), and σ′(z) is nearly 0 when the "
                  "output is confidently wrong: the blame is tiny exactly when it should be big. Softmax + "
                  "cross-entropy makes it simply a − y, so sure-and-wrong gets the biggest correction. ReLU hidden "
                  "units don't flatten out for large positive z the way sigmoids do either."),
    },
    {
        "id": "no_shuffle",
        "title": N_("No shuffling"),
        "variants": {
            N_("Shuffle off"): {"train_shuffle": False, "train_epochs": 3},
            N_("Shuffle on (to compare)"): {"train_shuffle": True, "train_epochs": 3},
        },
        "look_for": N_("In *Loss of each mini-batch*, the wiggles of every epoch repeat the same pattern (same batches "
                       "in the same order). The accuracy ends up about the same."),
        "why": N_("MNIST's images are already in random order, so each fixed batch is still a fair mix of digits. "
                  "Shuffling matters when data is sorted (all the 0s, then all the 1s…): the network would chase "
                  "whichever digit it saw last and forget the others. Fresh batches every epoch also add a little "
                  "useful noise."),
    },
    {
        "id": "batch_size",
        "title": N_("Batch size 1 vs 1,000"),
        "variants": {
            N_("Batch 1 (1 epoch: slow)"): {"train_batch_size": 1, "train_optimizer": "sgd", "train_lr": 0.01,
                                        "train_epochs": 1},
            N_("Batch 1,000 (1 epoch)"): {"train_batch_size": 1000, "train_optimizer": "sgd", "train_lr": 0.01,
                                      "train_epochs": 1},
        },
        "look_for": N_("Same single epoch, same learning rate. Batch 1 makes one update per image: a jagged, noisy "
                       "loss and about 90% at the end, but it is slow (around 10 s on the built-in sample, about a "
                       "minute on the full MNIST; watch examples/s). Batch 1,000 makes only a handful of smooth "
                       "updates in a blink and is still far from trained."),
        "why": N_("Learning happens in the updates. A big batch gives a more accurate gradient but few steps per "
                  "epoch, so it needs a bigger learning rate or more epochs. Tiny batches give many cheap, noisy "
                  "steps, and waste NumPy's ability to process a 1,000-row matrix almost as fast as a single row."),
    },
    {
        "id": "mlp_vs_cnn",
        "title": N_("A dense network (MLP) vs a convolutional one (CNN)"),
        "variants": {
            N_("MLP 784-256-10, 5 epochs"): {"train_epochs": 5},
            N_("CNN conv 8,16 @5×5, 5 epochs"): {"train_kind": "cnn", "train_epochs": 5},
        },
        "look_for": N_("The CNN has about 6,000 weights, the MLP about 200,000, yet the CNN ends a point ahead "
                       "(about 97% against 96% on the built-in sample). It takes several times as long per epoch "
                       "(watch examples/s). Then open **Why convolutions?**: with the test digits moved 2 pixels, the "
                       "MLP reads about two thirds of them, the CNN about 86% (built-in sample). On **Inside the "
                       "network**, the CNN's feature maps show where in the digit each filter found its stroke."),
        "why": N_("A dense unit has one weight per pixel, so a stroke it learned in one place is read elsewhere only "
                  "as far as the weights there learned it too. A CNN's filter is a 5×5 stroke detector slid over the "
                  "whole image: the same few weights are used at every position (weight sharing), so they are "
                  "learned from every position at once, and max-pooling forgives a shift that stays inside its 2×2 "
                  "block. The price: each weight is used hundreds of times per image, so there is far more "
                  "arithmetic for far fewer weights."),
    },
    {
        "id": "mlp_vs_cnn_moved",
        "title": N_("MLP vs CNN, both trained with moved digits"),
        "variants": {
            N_("MLP 784-256-10, augment 0.5, 5 epochs"): {"train_augment": 0.5, "train_epochs": 5},
            N_("CNN conv 8,16 @5×5, augment 0.5, 5 epochs"): {"train_kind": "cnn", "train_augment": 0.5,
                                                         "train_epochs": 5},
        },
        "look_for": N_("The fair version of **Why convolutions?**: both trained the same way, on training digits "
                       "moved by up to 1 pixel (and turned and resized a little). Open that page after each run. "
                       "On the built-in sample, moved 2 pixels the MLP reads about 84% of the test digits and the "
                       "CNN about 92% (trained without moved digits: about 68% and 86%); moved 3 pixels, about 61% "
                       "and 77%."),
        "why": N_("Moved training digits teach the MLP's weights the nearby places of each stroke, example by "
                  "example, and both networks gain from them. The CNN's shared filters and its pooling add a "
                  "tolerance of their own to small moves, so trained the same way it stays ahead."),
    },
    {
        "id": "l2",
        "title": N_("L2 (weight decay) off and on"),
        "variants": {
            N_("L2 off, 15 epochs"): {"train_l2": 0.0, "train_epochs": 15},
            N_("L2 0.002, 15 epochs"): {"train_l2": 0.002, "train_epochs": 15},
        },
        "look_for": N_("Without L2 the training accuracy reaches 100% and the training loss heads for 0, while "
                       "validation stays a few points lower: it is memorising. With L2 the gap between training and "
                       "validation shrinks and the training loss stays higher (it includes the penalty). The test "
                       "accuracy changes little on this data, and may even drop a bit."),
        "why": N_("L2 adds ½·λ·Σw² to the loss, so every update also shrinks every weight a little. Large weights "
                  "that only help fit a few training images get pulled back. Too much L2 keeps even useful "
                  "weights small, and the network underfits."),
    },
]


def load_preset(exp_id, label):
    """Button callback: put one experiment variant into the widgets (the URL follows)."""
    exp = next(e for e in EXPERIMENTS if e["id"] == exp_id)
    lesson.apply(exp["variants"][label])
    st.session_state["lesson_loaded"] = (exp["title"], label)     # words shown by the page, in its language
    st.session_state["train_error"] = ""


def preset_label(settings):
    """The variant's label if a run's settings dict is exactly that variant's, else None."""
    for exp in EXPERIMENTS:
        for label, values in exp["variants"].items():
            d = _settings_dict(values)
            if settings.get("layers") == d.get("layers") and all(settings.get(k) == v for k, v in d.items()):
                return _(label).removesuffix(_(" (to compare)"))
    return None


def _settings_dict(values):
    """A variant's widget values as the settings dict of a run trained with them."""
    return training.settings_from_values(values).as_dict()
