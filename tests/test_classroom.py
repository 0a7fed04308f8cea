"""Classroom tools: lesson links, presenter mode, guided experiments, comparing runs, CSV export.

Run with the built-in sample: `MNIST_DIR= .venv/bin/python -m pytest tests/test_classroom.py -q`.
Training is driven by rerunning the Train page, as in tests/test_app_training.py.
"""
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from apptest_utils import open_page, run_until_done, texts
from engine.trainer import Settings
from ui import experiments, lesson, training

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
TRAIN, COMPARE, EVALUATE = "app_pages/4_train.py", "app_pages/8_compare.py", "app_pages/5_evaluate.py"
ADVANCED = ("train_momentum", "train_l2", "train_seed", "train_init_scale", "train_batch_size",
            "train_optimizer", "train_lr_decay")


pytestmark = pytest.mark.usefixtures("builtin_sample")


def widget_keys(at):
    keys = set()
    for kind in ("number_input", "selectbox", "text_input", "slider", "toggle", "button", "file_uploader",
                 "download_button"):
        keys |= {w.key for w in getattr(at, kind) if w.key}
    return keys


def train_run(at, **widgets):
    """Set some Train widgets, press Start and rerun until the run ends."""
    for key, value in widgets.items():
        at.session_state[key] = value
    at.run()
    at.button(key="train_start").click().run()
    run_until_done(at)
    return at.session_state["runs"][-1]


def chart_values(at, key=None):
    """The data rows of the page's Altair charts (from the Vega-Lite specs and datasets)."""
    rows = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        for data in spec.get("datasets", {}).values():
            rows += data
        for ds in chart.proto.datasets:
            import pyarrow as pa
            rows += pa.ipc.open_stream(ds.data.data).read_all().to_pylist()
    return rows


# ------------------------------------------------------------------ lesson links


def test_a_lesson_link_opens_the_train_page_with_its_settings():
    at = open_page(TRAIN, {"hidden": "5", "activation": "sigmoid", "loss": "mse", "lr": "3", "epochs": "5"})
    assert at.text_input(key="train_hidden").value == "5"
    assert at.selectbox(key="train_activation").value == "sigmoid"
    assert at.selectbox(key="train_loss").value == "mse"
    assert at.number_input(key="train_lr").value == pytest.approx(3.0)
    assert at.number_input(key="train_epochs").value == 5
    assert at.number_input(key="train_batch_size").value == Settings().batch_size   # not in the link: default
    assert not at.warning
    assert dict(at.query_params) == {"hidden": "5", "activation": "sigmoid", "loss": "mse", "lr": "3", "epochs": "5"}
    link = texts(at.code)
    assert link.startswith("/train?") and "hidden=5" in link and "lr=3" in link and "activation=sigmoid" in link
    # The run uses the link's settings.
    at.button(key="train_start").click().run()
    run = at.session_state["trainer"]
    assert run.net.sizes == [784, 5, 10] and run.settings.activation == "sigmoid" and run.settings.lr == 3


def test_bad_link_values_are_ignored_with_a_note_and_keep_the_defaults():
    at = open_page(TRAIN, {"lr": "abc", "epochs": "-5", "activation": "swish", "unknown": "1", "batch": "12.5",
                           "hidden": "5-x", "momentum": "nan"})
    d = Settings()
    assert at.number_input(key="train_lr").value == pytest.approx(d.lr)
    assert at.number_input(key="train_epochs").value == d.epochs
    assert at.selectbox(key="train_activation").value == d.activation
    assert at.number_input(key="train_batch_size").value == d.batch_size
    assert at.text_input(key="train_hidden").value == "256"
    assert at.number_input(key="train_momentum").value == pytest.approx(d.momentum)
    note = texts(at.warning)
    for part in ("`lr=abc`: not a number", "`epochs=-5`: must be from 1 to 200", "`activation=swish`: choose one of",
                 "`unknown=1`: not a setting", "`batch=12.5`: must be a whole number", "`hidden=5-x`",
                 "`momentum=nan`"):
        assert part in note, note
    assert dict(at.query_params) == {}            # the address no longer holds what was ignored
    # Good values next to bad ones still count.
    at = open_page(TRAIN, {"lr": "0.5", "epochs": "0", "act": "tanh", "loss": "ce", "shuffle": "off"})
    assert at.number_input(key="train_lr").value == pytest.approx(0.5)
    assert at.selectbox(key="train_activation").value == "tanh"
    assert at.toggle(key="train_shuffle").value is False
    assert at.number_input(key="train_epochs").value == d.epochs
    assert "`epochs=0`" in texts(at.warning)


def test_widget_changes_update_the_address_and_the_link_is_applied_only_once():
    at = open_page(TRAIN, {"lr": "3"})
    at.number_input(key="train_epochs").set_value(4).run()
    assert at.query_params == {"lr": "3", "epochs": "4"}
    at.number_input(key="train_lr").set_value(0.1).run()          # back to the default: leaves the address
    assert at.query_params == {"epochs": "4"}
    at.run()
    assert at.number_input(key="train_lr").value == pytest.approx(0.1)   # the old link does not come back
    at.text_input(key="train_hidden").set_value("64, 32").run()
    assert at.query_params["hidden"] == "64-32"
    assert "hidden=64-32" in texts(at.code)
    # After a page switch the address is empty, but the settings stay and are written back.
    at.switch_page("app_pages/6_draw.py")
    at.run()
    at.switch_page(TRAIN)
    at.run()
    assert at.number_input(key="train_epochs").value == 4
    assert at.query_params == {"hidden": "64-32", "epochs": "4"}


def test_url_parameters_round_trip_and_match_the_widget_limits():
    values = {"train_hidden": "256,128", "train_lr": 0.05, "train_shuffle": False, "train_val_fraction": 0.2,
              "train_batch_size": 32, "train_activation": "tanh"}
    params = lesson.to_params(values)
    assert params == {"hidden": "256-128", "activation": "tanh", "lr": "0.05", "batch": "32", "val": "0.2",
                      "shuffle": "0"}
    back, notes = lesson.from_params(params)
    assert notes == [] and back == values
    assert lesson.to_params(training.WIDGETS) == {}
    assert lesson.from_params({"hidden": "none"})[0] == {"train_hidden": ""}
    for name, (key, kind, details) in lesson.PARAMS.items():
        assert key in training.WIDGETS
        if kind in ("int", "float"):
            low, high, _ = details
            assert lesson.from_params({name: str(high * 2 + 1)})[1], name       # above the widget's max
            assert lesson.from_params({name: str(low - 1)})[1], name            # below its min


# ------------------------------------------------------------------ guided experiments


def test_each_experiment_preset_sets_the_controls_it_names():
    at = open_page(TRAIN)
    for exp in experiments.EXPERIMENTS:
        assert exp["look_for"] and exp["why"] and exp["variants"]
        for i, (label, values) in enumerate(exp["variants"].items()):
            at.number_input(key="train_seed").set_value(7).run()       # a leftover that a preset must reset
            at.button(key=f"exp_{exp['id']}_{i}").click().run()
            assert not at.exception, at.exception
            ss = at.session_state
            for key, default in training.WIDGETS.items():
                assert ss[key] == values.get(key, default), (exp["id"], label, key)
            assert at.number_input(key="train_seed").value == 0
            assert dict(at.query_params) == lesson.to_params({**training.WIDGETS, **values})
            assert label in texts(at.success)
            training.Settings(**experiments._settings_dict(values)).check(9000)      # every preset can start


def test_a_preset_run_is_named_after_its_variant():
    at = open_page(TRAIN)
    at.button(key="exp_lr_too_high_0").click().run()
    run = train_run(at)
    assert run["status"] == "diverged"
    assert "diverged" in texts(at.error)
    at.switch_page(COMPARE)
    at.run()
    assert at.session_state["runs"][0]["name"] == "Run 1: Learning rate 10"


# ------------------------------------------------------------------ presenter mode


def test_presenter_mode_hides_advanced_controls_and_keeps_explanations():
    at = open_page(TRAIN)
    at.number_input(key="train_momentum").set_value(0.5).run()
    normal = widget_keys(at)
    assert set(ADVANCED) <= normal and "train_upload" in normal
    at.sidebar.toggle(key="presenter").set_value(True).run()
    assert not at.exception, at.exception
    shown = widget_keys(at)
    for key in ADVANCED + ("train_val_fraction", "train_shuffle", "train_augment", "train_upload"):
        assert key not in shown, key
    for key in ("train_hidden", "train_activation", "train_loss", "train_lr", "train_epochs",
                "train_start", "train_pause", "train_stop"):
        assert key in shown, key
    assert at.query_params["present"] == "1"
    assert any("font-size" in str(h.proto) for h in at.get("html"))         # the big-text styles
    assert "Presenter mode shows the main settings only" in texts(at.caption)
    assert "What to look for" in texts(at.markdown)                         # explanations stay
    # Hidden settings keep their values and still count.
    at.button(key="train_start").click().run()
    assert at.session_state["trainer"].settings.momentum == pytest.approx(0.5)
    at.button(key="train_stop").click().run()
    at.sidebar.toggle(key="presenter").set_value(False).run()
    assert at.number_input(key="train_momentum").value == pytest.approx(0.5)
    assert "present" not in at.query_params


def test_presenter_mode_enlarges_the_chart_text():
    at = open_page(TRAIN)
    train_run(at, train_epochs=2, train_hidden="16")

    def label_sizes():
        specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
        assert len(specs) == 3                        # batch loss, loss and accuracy per epoch
        return {s.get("config", {}).get("axis", {}).get("labelFontSize") for s in specs}
    assert label_sizes() == {None}                    # Streamlit's normal sizes
    at.sidebar.toggle(key="presenter").set_value(True).run()
    assert label_sizes() == {16}
    at.sidebar.toggle(key="presenter").set_value(False).run()
    assert label_sizes() == {None}


def test_a_link_can_open_in_presenter_mode_on_any_page():
    at = open_page(TRAIN, {"present": "1", "lr": "0.5"})
    assert at.session_state["presenter"] is True
    assert "train_momentum" not in widget_keys(at)
    assert at.number_input(key="train_lr").value == pytest.approx(0.5)
    assert not at.warning                                     # present is not an "unknown" setting
    assert "present=1" in texts(at.code)
    at.switch_page("app_pages/1_dataset.py")
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["presenter"] is True and at.query_params.get("present") == "1"


# ------------------------------------------------------------------ compare runs


def test_compare_page_without_runs_says_what_to_do():
    at = open_page(COMPARE)
    assert "No runs yet" in texts(at.info)


def test_two_runs_are_compared_renamed_and_deleted(downloads):
    at = open_page(TRAIN)
    first = train_run(at, train_hidden="16", train_epochs=2)
    second = train_run(at, train_hidden="8", train_activation="sigmoid", train_loss="mse", train_epochs=2,
                       train_optimizer="sgd", train_lr=0.5)
    # The Train page offers the history of the run that just ended.
    assert "run_2_history.csv" in downloads
    at.switch_page(COMPARE)
    at.run()
    assert not at.exception, at.exception
    names = [first["name"], second["name"]]
    assert names[0].startswith("Run 1: 784-16-10 relu") and names[1].startswith("Run 2: 784-8-10 sigmoid")
    assert at.multiselect(key="cmp_pick").value == [1, 2]
    rows = chart_values(at)
    assert {r["run"] for r in rows} == set(names)
    assert len([r for r in rows if r["run"] == names[0]]) == 2             # one point per epoch
    accs = {r["run"]: r["value"] for r in rows if r["x"] == 2}
    assert accs[names[0]] == pytest.approx(first["history"]["epochs"][-1]["val_acc"])
    table = at.dataframe[0].value
    assert list(table.columns) == names
    assert table.loc["test accuracy", names[0]] == f"{first['test_accuracy']:.2%}"
    assert table.loc["activation", names[1]] == "sigmoid"
    assert "seed" not in table.index                                          # same in both: folded away

    at.radio(key="cmp_curve").set_value("batch_loss").run()
    rows = chart_values(at)
    assert {r["run"] for r in rows} == set(names) and max(r["x"] for r in rows) == pytest.approx(2, abs=0.05)

    # History CSV of one run: epoch rows and batch rows.
    csv = pd.read_csv(io.BytesIO(downloads["run_1_history.csv"]))
    epochs = csv[csv["kind"] == "epoch"]
    assert list(epochs["epoch"]) == [1, 2]
    assert epochs["val_acc"].tolist() == pytest.approx([e["val_acc"] for e in first["history"]["epochs"]])
    assert (csv["kind"] == "batch").sum() == len(first["history"]["batch_loss"])
    both = pd.read_csv(io.BytesIO(downloads["runs_history.csv"]))
    assert set(both["run"]) == set(names)

    # Rename: the new name labels the curves and the table; a duplicate name is refused.
    at.text_input(key="cmp_name_1").input("ReLU, 16 units").run()
    assert at.session_state["runs"][0]["name"] == "ReLU, 16 units"
    assert "ReLU, 16 units" in {r["run"] for r in chart_values(at)}
    assert "ReLU, 16 units" in list(at.dataframe[0].value.columns)
    at.text_input(key="cmp_name_2").input("ReLU, 16 units").run()
    assert at.session_state["runs"][1]["name"] == names[1]
    assert "already used" in texts(at.info)

    # Delete: gone from the list, the choice, the chart and the table.
    at.button(key="cmp_del_1").click().run()
    assert not at.exception, at.exception
    assert [r["id"] for r in at.session_state["runs"]] == [2]
    assert at.multiselect(key="cmp_pick").value == [2]
    assert {r["run"] for r in chart_values(at)} == {names[1]}
    at.button(key="cmp_del_2").click().run()
    assert "No runs yet" in texts(at.info)


def test_history_csv_of_a_record():
    record = {"name": "A", "history": {"batch_step": [1, 2, 3], "batch_loss": [2.0, 1.5, 1.0],
                                       "epochs": [{"epoch": 1, "train_loss": 1.2, "train_acc": 0.6,
                                                   "val_loss": 1.1, "val_acc": 0.65, "seconds": 0.3}]}}
    df = pd.read_csv(io.StringIO(training.history_csv([record])))
    assert list(df.columns) == training.HISTORY_COLUMNS
    assert df["kind"].tolist() == ["epoch", "batch", "batch", "batch"]
    assert df.loc[0, "val_acc"] == 0.65 and df["batch_loss"].iloc[1:].tolist() == [2.0, 1.5, 1.0]


def test_evaluate_offers_the_confusion_matrix_as_csv(downloads):
    at = open_page(EVALUATE)
    cm = at.session_state["eval_cache"]["cm"]
    df = pd.read_csv(io.BytesIO(downloads["confusion_matrix.csv"]), index_col=0)
    assert df.shape == (10, 10) and df.values.tolist() == cm.tolist()
    assert df.index[3] == "true 3" and df.columns[9] == "predicted 9"


def test_a_steered_preset_run_is_named_after_the_variant_it_started_as():
    """A run started as the 'Learning rate 10' variant and steered to 0.05 is that variant 'then lr 10 → 0.05',
    not a run of another variant nor 'lr 0.05'."""
    from ui import run_names
    start = experiments._settings_dict(experiments.EXPERIMENTS[0]["variants"]["Learning rate 10"])
    record = {"id": 4, "settings": {**start, "lr": 0.05},
              "history": {"marks": [(120, "lr 10 → 0.05", {"lr": (10.0, 0.05)})]}}
    assert run_names.default_name(record) == "Run 4: Learning rate 10, then lr 10 → 0.05 at batch 120"
    assert run_names.default_name({**record, "history": {"marks": []}}).endswith("lr 0.05")
