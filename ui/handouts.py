"""The students' handouts: one printable page per lesson of docs/teacher.md, downloaded from Home's
"For teachers" box.

A handout is one self-contained HTML file with print CSS: any browser opens it offline and prints it
on one page (A4 or Letter; a browser test prints it to PDF and counts the pages), and it needs no new
library (a PDF would need one, Markdown a renderer). Each step names a page of the app, its lesson
link, the students' questions and the numbers to look for. The numbers are the app's own on the
built-in sample with the default seed (tests/test_handouts.py measures every one of them again).
"""
import html
from typing import NamedTuple
from urllib.parse import urlsplit

import streamlit as st

import i18n
from i18n import N_, _
from ui import formats, pages


class Step(NamedTuple):
    page: str            # a page's name (ui/pages.py)
    links: tuple         # lesson links on that page: (label, query) pairs; () = the page itself
    ask: tuple           # the students' questions
    look_for: tuple      # the numbers to look for, each naming its measure


class Lesson(NamedTuple):
    id: str
    title: str
    minutes: int
    steps: tuple


SAMPLE_NOTE = N_("Numbers from the app's built-in sample (10,000 training and 2,000 test digits) and its fixed seed: "
                 "Start with the same settings gives them again, or up to one percentage point apart on another "
                 "kind of processor (it rounds in another order). If Home says the full MNIST is loaded, your "
                 "runs' accuracies come out higher.")

_DATASET = Step("dataset", (), (
    N_("How many numbers describe one digit? Which number is blank paper, which is full ink?"),
), (
    N_("28 × 28 = 784 numbers a digit, each from 0 (paper) to 255 (full ink)."),
    N_("The built-in sample: 10,000 training digits and 2,000 test digits."),
))
_HOW = Step("how_it_learns", (), (
    N_("After “Take one step”: did the loss of this image go up or down? Why must the forward pass come first?"),
), (
    N_("The built-in network 784 → 256 → 10 has 203,530 weights and biases; one step changes all of them."),
))
_TRAIN = Step("train", (("defaults", ""),), (
    N_("Press Start. What does the loss of each mini-batch do? After the last epoch, which is higher: "
       "training or validation accuracy? Why?"),
), (
    N_("10 epochs: 96.35% of the 2,000 test images right."),
    N_("Last epoch: training accuracy 100.0%, validation accuracy 96.7% (the gap: memorising)."),
))

LESSONS = (
    Lesson("mlp", N_("Lesson 1 · How a network learns to read digits"), 45, (
        _DATASET,
        Step("one_hot", (), (
            N_("Write the label 7 as the network's target. Why not just the number 7?"),
        ), (
            N_("[0, 0, 0, 0, 0, 0, 0, 1, 0, 0]: ten numbers, one per output neuron."),
        )),
        _HOW,
        _TRAIN,
        Step("train", ((N_("learning rate 10"), "lr=10&epochs=3"),), (
            N_("Guided experiment “A learning rate far too high”: what happens to the loss? Is your model replaced?"),
        ), (
            N_("“Training diverged at epoch 1, batch 8”: a weight passed 10,000 within 8 mini-batches."),
        )),
        Step("train", ((N_("5 hidden units"), "hidden=5&epochs=5"), (N_("128 hidden units"), "hidden=128&epochs=5")), (
            N_("Guided experiment “A hidden layer of only 5 units”: is 5 units too few to learn, or to remember?"),
        ), (
            N_("After 5 epochs: 85.65% of the test images with 5 units, 95.85% with 128."),
        )),
        Step("draw", (), (
            N_("Draw a 7 your way. What does the network answer, and how sure is it? "
            "Which digit is hardest to get read right?"),
        ), ()),
    )),
    Lesson("cnn", N_("Lesson 2 · From an MLP to a CNN, with our own handwriting"), 90, (
        _DATASET,
        _HOW,
        _TRAIN,
        Step("train", ((N_("sigmoid + MSE"), "activation=sigmoid&loss=mse&optimizer=sgd&lr=0.5&batch=100&epochs=5"),
                       (N_("ReLU + cross-entropy"), "optimizer=sgd&lr=0.5&batch=100&epochs=5")), (
            N_("Guided experiment “The write-up's sigmoid + MSE vs ReLU + softmax + cross-entropy”, then Compare runs: which learns faster, and why?"),
        ), (
            N_("Validation accuracy after epoch 1: 66.7% (MSE) against 88.5% (cross-entropy)."),
            N_("After 5 epochs: 86.15% against 95.30% of the test images."),
        )),
        Step("evaluate", (), (
            N_("Which two digits does your model mix up most? Would you have read its most confident mistake right?"),
        ), ()),
        Step("why_convolutions", (), (
            N_("Moved 2 pixels, which network still reads the digits? Why does the MLP lose them?"),
        ), (
            N_("Built-in MLP against built-in CNN, 500 test digits moved four ways: 93.8% against 95.9% at 2 px, "
            "57.1% against 76.7% at 4 px."),
        )),
        Step("convolution", (), (
            N_("A 5×5 kernel slides over a 28×28 digit (no padding, stride 1): how big is the feature map? "
            "How many weights does the kernel have?"),
        ), (
            N_("(28 + 2·0 − 5)/1 + 1 = 24: a 24×24 map, from 25 weights and 1 bias."),
        )),
        Step("train", ((N_("MLP, 5 epochs"), "epochs=5"), (N_("CNN, 5 epochs"), "epochs=5&kind=cnn")), (
            N_("Guided experiment “A dense network (MLP) vs a convolutional one (CNN)”: which has more weights, which reads better? "
            "Then open Why convolutions? again: how does your model do?"),
        ), (
            N_("Weights: 203,530 (MLP) against 5,994 (CNN). Test accuracy: 96.40% against 97.60%."),
            N_("On Why convolutions?, moved 2 px: your MLP 68.0%, your CNN 86.5%."),
        )),
        Step("class", (), (
            N_("Draw three digits and press “Add to our class set”. "
            "Does the built-in MLP read our handwriting as well as MNIST's?"),
        ), (
            N_("On the 2,000 MNIST test digits the built-in MLP reads 98.7%. On ours: see the Class page."),
        )),
        Step("pytorch", (), (
            N_("Which PyTorch line does the same as the engine's backward pass? How big is the largest difference?"),
        ), (
            N_("The page lists every difference between the two; any above 1e-4 is flagged."),
        )),
    )),
)


def lesson(lesson_id):
    return next(x for x in LESSONS if x.id == lesson_id)


def link(page_name, query="", base=""):
    """A page's address, with a lesson link's settings: base + /train?hidden=5 (Home is the root)."""
    path = "" if pages.page(page_name) is pages.HOME else pages.page(page_name).name
    from ui.translation import link_params          # the class's language: lang=it
    query = "&".join([query] * bool(query) + [f"{k}={v}" for k, v in link_params().items()])
    return f"{base}/{path}" + (f"?{query}" if query else "")


CSS = """
@page { margin: 10mm 11mm; }
* { box-sizing: border-box; }
body { font: 9.5pt/1.3 "DejaVu Sans", Arial, sans-serif; color: #000; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 13pt; margin: 0 0 1mm; }
p.note { font-size: 8pt; margin: 0 0 2mm; color: #222; }
ol { margin: 0; padding-left: 4.5mm; columns: 2; column-gap: 7mm; }
li { margin: 0 0 2.2mm; break-inside: avoid; }
.page { font-weight: bold; }
.link { display: block; font: 7.5pt "DejaVu Sans Mono", monospace; color: #222; overflow-wrap: anywhere; }
.ask { margin: 0.6mm 0 0; }
.ask::before { content: "? "; font-weight: bold; }
.num { margin: 0.6mm 0 0; padding-left: 1.6mm; border-left: 0.8mm solid #555; }
.answer { border-bottom: 0.3mm dotted #777; height: 7mm; margin-bottom: 0.6mm; }
footer { font-size: 7.5pt; margin-top: 1.5mm; color: #222; }
"""


def handout_html(lesson_id, base=""):
    """The handout of a lesson as one HTML page; lesson links start with `base` (the server's
    address when known, else they are paths like /train?lr=10)."""
    x = lesson(lesson_id)
    e = html.escape
    items = []
    for step in x.steps:
        p = pages.page(step.page)
        links = step.links or (("", ""),)
        body = [f'<span class="page">{e(_(p.title))}</span>']
        body += [f'<span class="link">{e(_(label)) + ": " if label and label != "defaults" else ""}'
                 f'{e(link(step.page, q, base))}</span>' for label, q in links]
        body += [f'<div class="ask">{e(_(q))}</div><div class="answer"></div>' for q in step.ask]
        body += [f'<div class="num">{e(_(n))}</div>' for n in step.look_for]
        items.append("<li>" + "".join(body) + "</li>")
    lang = i18n.current() if i18n.current() in i18n.LANGUAGES else i18n.SOURCE
    title = e(_(x.title))
    footer = _("Print: your browser's Print (Ctrl+P / ⌘P) fits this on one page.")
    heading = _("{title} ({minutes} minutes)").format(title=_(x.title), minutes=x.minutes)
    name = _("Name:")
    how = _("Questions marked ? are for you to answer; the lines with a bar are the numbers to look for.")
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{CSS}</style></head><body>\n"
            f"<h1>{e(heading)}</h1>\n"
            f'<p class="note">{e(name)} ______________________ &nbsp; Digits from Scratch. '
            f"{e(how)} "
            f"{e(_(SAMPLE_NOTE))}</p>\n"
            f"<ol>{''.join(items)}</ol>\n"
            f"<footer>{html.escape(footer, quote=False)}</footer>\n"
            "</body></html>\n")


def _server_base():
    """The app's address as the browser sees it (called on Home, the root page), or '' when unknown."""
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001 - no browser (tests, scripts)
        url = None
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def teacher_corner(data):
    """Home's "For teachers" box: the lesson plans in a sentence each and a handout per lesson."""
    with st.expander(_("🧑‍🏫 For teachers: lesson plans and handouts")):
        st.write(_("Two lesson plans use this app's guided experiments: a 45-minute one (an MLP learns to read "
                   "digits) and a 90-minute one (from an MLP to a CNN, with the class's own handwriting). The plans, "
                   "and how to reset the Class page between classes, are in the project's `docs/teacher.md`. "
                   "Each lesson has a one-page handout for the students: questions, and the numbers to look for."))
        if data is not None and not data.is_sample:
            st.warning(_("The handouts' numbers were measured on the built-in sample; this server has {source} "
                         "loaded, so the numbers your students see will differ (their runs' accuracies come out "
                         "higher).").format(source=formats.source_text(data.source)))
        base = _server_base()
        cols = st.columns(len(LESSONS))
        for number, (col, x) in enumerate(zip(cols, LESSONS), start=1):
            col.download_button(_("Handout: Lesson {number} ({minutes} min)").format(number=number,
                                                                                     minutes=x.minutes),
                                data=handout_html(x.id, base), file_name=f"handout-{x.id}.html",
                                mime="text/html", key=f"handout_{x.id}", icon=":material/print:", on_click="ignore",
                                help=_("{title}: one printable page (HTML; open it and print from the browser).")
                                .format(title=_(x.title)))
