"""Numbers shown through i18n.pct / i18n.num read in English exactly as Python's own formatting did before the
app was translated (tests and handouts compare them: "96.35%"), and with a decimal comma in Italian."""
import i18n


def test_pct_rounds_as_python_does_in_english():
    i18n.use("en")
    # Every accuracy of a 2,000-image test set: k / 2000 has many exact half-way cases (0.9685 -> 96.9%).
    for k in range(2001):
        a = k / 2000
        for d in (0, 1, 2):
            assert i18n.pct(a, d) == f"{a:.{d}%}", (a, d)


def test_num_rounds_as_python_does_in_english():
    i18n.use("en")
    for k in range(2001):
        x = k / 2000
        assert i18n.num(x, 3) == f"{x:,.3f}", x
        assert i18n.num(x * 10_000, 1) == f"{x * 10_000:,.1f}", x


def test_italian_writes_a_decimal_comma():
    i18n.use("it")
    try:
        assert i18n.pct(0.9685, 1) == "96,9%"
        assert i18n.num(12345.5, 1) == "12.345,5"
    finally:
        i18n.use("en")
