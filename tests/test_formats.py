"""Numbers shown to users: a probability never reads as a certain 100%."""
import pytest

from ui.formats import sure_text


@pytest.mark.parametrize("p, shown", [(1.0, "over 99.9%"), (0.9996, "over 99.9%"), (0.999, "99.9%"),
                                      (0.9987, "99.8%"), (0.5, "50%"), (0.0, "0%")])
def test_a_probability_never_reads_as_certain(p, shown):
    assert sure_text(p) == shown
