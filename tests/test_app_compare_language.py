"""Compare runs for language models (#23): two runs trained on the Train a language model page are listed on
the Compare runs page under "Language models", their loss curves step by step in one chart and their settings
side by side (only the rows that differ, until asked); Delete removes one; the digits' part is still there."""
from apptest_utils import get, open_page, texts
from test_app_train_language import PAGE, finish, tiny

COMPARE = "app_pages/8_compare.py"


def test_two_language_model_runs_side_by_side():
    at = tiny(open_page(PAGE))
    for lr in (0.01, 0.03):
        at.number_input(key="lmt_lr").set_value(lr).run()
        at.button(key="lmt_start").click().run()
        assert finish(at) == "finished"
    records = get(at, "lm_runs")
    assert [r["id"] for r in records] == [1, 2] and [r["settings"]["lr"] for r in records] == [0.01, 0.03]
    assert records[0]["history"]["evals"][-1]["step"] == 40 and len(records[0]["history"]["batch_step"]) == 40

    at.switch_page(COMPARE).run()
    assert not at.exception, at.exception
    assert at.radio(key="cmp_which").value == "words"            # no digit runs: the language models' part
    assert "Your language-model runs (2)" in [h.value for h in at.header]
    assert f"{records[1]['val_loss']:.4f}" in texts(at.markdown)
    table = at.dataframe[0].value
    assert list(table.columns) == [r["name"] for r in records]
    assert "learning rate" in table.index and "kind of model" not in table.index       # only what differs
    assert "validation loss (nats per character)" in table.index
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1 and "Validation loss at each evaluation" in charts[0].proto.spec
    at.toggle(key="cmp_lm_same").set_value(True).run()
    assert "kind of model" in at.dataframe[0].value.index
    at.radio(key="cmp_lm_curve").set_value("batch_loss").run()
    assert "Training loss of each step" in at.get("vega_lite_chart")[0].proto.spec

    at.button(key="cmp_lm_del_1").click().run()
    assert [r["id"] for r in get(at, "lm_runs")] == [2]
    assert "Your language-model runs (1)" in [h.value for h in at.header]
    at.radio(key="cmp_which").set_value("digits").run()          # the digits' part: no runs there yet
    assert not at.exception, at.exception
    assert "No runs yet" in texts(at.info)
