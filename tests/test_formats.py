"""Numbers shown to users: a probability never reads as a certain 100%."""
import pytest

from ui.formats import sure_text


@pytest.mark.parametrize("p, shown", [(1.0, "over 99.9%"), (0.9996, "over 99.9%"), (0.999, "99.9%"),
                                      (0.9987, "99.8%"), (0.5, "50%"), (0.0, "0%")])
def test_a_probability_never_reads_as_certain(p, shown):
    assert sure_text(p) == shown


@pytest.mark.parametrize("seconds,shown,italian", [(1.234, "1.23", "1,23"), (0.005, "0.01", "0,01"),
                                                   (0.0042, "0.0042", "0,0042"), (0.00049, "0.00049", "0,00049"),
                                                   (0.0, "0.00", "0,00")])
def test_a_quick_time_is_never_written_as_zero(seconds, shown, italian):
    """Both PyTorch pages time one quick step or batch: 0.0042 s, not "0.00 s" (2 significant digits under 5 ms)."""
    import i18n
    from ui.formats import seconds_text
    assert seconds_text(seconds) == shown
    i18n.use("it")
    try:
        assert seconds_text(seconds) == italian
    finally:
        i18n.use(i18n.SOURCE)
