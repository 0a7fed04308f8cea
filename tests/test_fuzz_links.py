"""Fuzz: no lesson link, however odd, breaks the Train page (issue 11).

A link's address is typed, pasted, cut short and edited by hand, so anything can
arrive: unknown names, numbers at and past every limit, nan, 10 kB strings,
unicode, a parameter given twice. Each of ~60 seeded random links is opened on
the Train page in a fresh session, as a student's browser would; the page must
draw without an exception, still offer Start, and keep its warning short.

Start is not pressed: this is about reading links, not about training.
Run on the built-in sample (MNIST_DIR empty).
"""
import math
import random
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import lesson

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
TRAIN = "app_pages/4_train.py"
N_LINKS = 60
SEED = 11
BIG = "x" * 10_240                     # a 10 kB value

# Values for any parameter: empty, odd numbers, unicode, huge text.
ANY_VALUES = ["", " ", "nan", "NaN", "inf", "-inf", "1e308", "1e309", "-1e400", "9" * 5000, "0x10", "1_000",
              "３", "٣", "½", "日本語", "🔢", "null", "None", "true", "-0", "+1", "1,5", "1.5.5", "%", "<b>x</b>",
              "`code`", "a\nb", "\x00", "[link](http://example.com)", BIG, "9" * 10_240]
HIDDEN_VALUES = ["2048-2048-2048-2048-2048-2048", "-1", "1e9", "0", "none", "5--5", "99999999999999999999",
                 "1,2,3", "128_64", "4096", "1" * 400, "-".join(["1"] * 500), "64-", "-64", "128 64", "1.5"]
NUMBER_KEYS = {key for key, kind, _ in lesson.PARAMS.values() if kind in ("int", "float")}
UNKNOWN_NAMES = ["foo", "LR", "Hidden", "hidden ", "", "名前", "lr[]", "a=b", "&", "x" * 300, BIG]


def number_values(low, high):
    """Numbers at, just inside and beyond a parameter's limits."""
    edges = [low, high, low - 1, high + 1, low + (high - low) / 2, high * 10, -high, low - 1e-9, high + 1e-9,
             high * 1e300]
    return [repr(x) if isinstance(x, float) else str(x) for x in edges] + [str(int(high)), f"{high:g}"]


def random_value(rng, name):
    kind = lesson.PARAMS[name][1] if name in lesson.PARAMS else None
    pick = rng.random()
    if pick < 0.35 or kind is None:
        return rng.choice(ANY_VALUES)
    if kind in ("hidden", "filters"):      # (a CNN's filters per conv layer are written the same way)
        return rng.choice(HIDDEN_VALUES)
    if kind == "choice":
        return rng.choice([*lesson.PARAMS[name][2], "RELU", "Adam", "ce", "swish", "cross-entropy "])
    if kind == "bool":
        return rng.choice(["1", "0", "on", "off", "yes", "maybe", "2"])
    low, high, _ = lesson.PARAMS[name][2]
    return rng.choice(number_values(low, high))


def random_link(rng):
    """A dict name -> value (or list of values: the parameter given several times)."""
    known = [*lesson.PARAMS, *lesson.ALIASES]
    params = {}
    for _ in range(rng.randint(1, 14)):
        name = rng.choice(known) if rng.random() < 0.75 else rng.choice(UNKNOWN_NAMES)
        if rng.random() < 0.1:
            params[name] = [random_value(rng, name) for _ in range(rng.randint(2, 4))]   # repeated
        else:
            params[name] = random_value(rng, name)
    if rng.random() < 0.15:
        params[lesson.PRESENT] = rng.choice(["1", "0", "yes", BIG])
    return params


def links():
    rng = random.Random(SEED)
    return [random_link(rng) for _ in range(N_LINKS)]


pytestmark = pytest.mark.usefixtures("builtin_sample_always")


def test_the_links_cover_the_hard_cases():
    """The generator does produce what this test is about (so a change to it can't quietly weaken it)."""
    values = [v for link in links() for vs in link.values() for v in (vs if isinstance(vs, list) else [vs])]
    assert any(len(v) >= 10_000 for v in values)
    assert any(v in ("nan", "NaN") for v in values) and any("inf" in v for v in values)
    assert any(v in HIDDEN_VALUES for v in values)
    assert any(isinstance(vs, list) for link in links() for vs in link.values())
    assert any(set(link) - set(lesson.PARAMS) - set(lesson.ALIASES) - {lesson.PRESENT} for link in links())


def test_random_lesson_links_never_break_the_train_page():
    for i, link in enumerate(links()):
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        at.switch_page(TRAIN)
        at.query_params.update(link)
        at.run()
        where = f"link {i}: {str(link)[:300]}"
        assert not at.exception, (where, at.exception)
        assert "Train your own network" in at.title[0].value, where
        assert at.button(key="train_start") is not None, where
        warning = "\n".join(w.value for w in at.warning)
        # Every value is shown cut short, and at most MAX_NOTES notes plus one counting line.
        assert len(warning) < 400 * (lesson.MAX_NOTES + 1), (where, len(warning))
        assert warning.count("\n- ") <= lesson.MAX_NOTES + 1, where
        # The number boxes shown (presenter mode hides some) hold values their own limits accept.
        numbers = [w for w in at.number_input if w.key in NUMBER_KEYS]
        assert numbers, where
        for w in numbers:
            low, high = lesson.limits(w.key)
            assert math.isfinite(w.value) and low <= w.value <= high, (where, w.key, w.value)
