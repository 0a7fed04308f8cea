"""The class set in the app (AppTest): Draw's "Add to our class set", the Class page's counts,
gallery, accuracies and leaderboard, "Submit this run", the teacher's controls, and a store
that cannot be used (the rest of the app goes on).
"""
import io
import logging
import os
import re
import subprocess
import zipfile

import numpy as np
import pandas as pd
import pytest

from apptest_utils import canvas_state, open_page, texts
from class_db import PNG, digit
from classroom import store as store_module
from classroom.store import Store
from engine import data as mnist_data
from engine.network import Network
from ui import class_set, runs, training

DRAW, CLASS, TRAIN = "app_pages/6_draw.py", "app_pages/8b_class.py", "app_pages/4_train.py"

pytestmark = pytest.mark.usefixtures("builtin_sample")


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A fresh SQLite class store for the app (DIGITS_DB), opened anew by the app."""
    path = tmp_path / "class.sqlite3"
    monkeypatch.setenv("DIGITS_DB", str(path))
    monkeypatch.delenv("DIGITS_TEACHER_PASSCODE", raising=False)
    class_set._failed.clear()
    yield path
    class_set._open.clear()


def _drawn_seven():
    img = np.zeros((280, 280, 4), np.uint8)
    img[..., 3] = 255
    img[50:72, 60:220, :3] = 255                     # the top bar ...
    for r in range(72, 240):                         # ... and a slanted stroke down
        c = 220 - (r - 72) * 0.55
        img[r, int(c) - 11:int(c) + 11, :3] = 255
    return img


def _draw(at, picture):
    at.session_state["draw_canvas_0"] = canvas_state(picture)
    at.run()
    assert not at.exception, at.exception


def test_draw_adds_a_digit_with_the_label_the_student_meant(db, monkeypatch):
    monkeypatch.setattr(store_module, "MIN_INTERVAL", 3600.0)   # so the second click is surely too soon
    at = open_page(DRAW)
    _draw(at, _drawn_seven())
    assert at.button(key="class_add").disabled              # first say which digit was meant
    at.selectbox(key="class_meant").set_value(7)
    at.text_input(key="class_nickname_draw").input("<b>Ada</b>")
    at.run()
    at.button(key="class_add").click().run()
    assert not at.exception, at.exception
    assert "Added your 7 to the class set (1 from you so far)" in texts(at.success)
    assert at.text_input(key="class_nickname_draw").value == "<b>Ada</b>"     # kept for the next drawing
    at.button(key="class_add").click().run()                 # again at once: one a second
    assert "One drawing a second" in texts(at.warning)
    s = Store(db)
    x, y, _ = s.class_set()
    assert list(y) == [7] and s.counts_by_nickname() == [("<b>Ada</b>", 1)]
    assert x[0].sum() > 0 and bytes(s.drawings()[0]["png"]).startswith(b"\x89PNG")
    s.close()


def test_the_class_page_shows_counts_gallery_and_accuracies(db):
    s = Store(db, min_interval=0)
    sample = mnist_data.load_sample()
    for i in range(20):                                  # 20 real digits, 2 of each kind
        k = int(np.flatnonzero(sample.y_test == i % 10)[i // 10])
        s.add_drawing(f"s{i // 10}", i % 10, sample.x_test[k], PNG, nickname=["Ada", "<i>Bo</i>"][i // 10])
    s.close()
    at = open_page(CLASS)
    assert "Digits drawn" in [m.label for m in at.metric] and at.metric[0].value == "20"
    students = at.dataframe[0].value
    assert sorted(zip(students["nickname"], students["digits"])) == [("<i>Bo</i>", 10), ("Ada", 10)]
    gallery = str(at.get("image")[0].proto)
    assert gallery.count("A 0 drawn by Ada") == 1 and gallery.count("A 0 drawn by <i>Bo</i>") == 1   # alt text
    table = at.dataframe[1].value
    assert list(table["model"])[:2] == ["the built-in pretrained model", "the built-in CNN"]
    ours = table[[c for c in table.columns if c.startswith("our class set")][0]]
    assert all(0 <= v <= 100 for v in ours) and ours.iloc[0] >= 80       # real MNIST digits: read well
    from engine.modelfile import load_model
    from ui.state import PRETRAINED
    mlp = load_model(str(PRETRAINED))[0]
    want = 100 * float((mlp.predict_proba(sample.x_test.astype(np.float32) / 255).argmax(1) == sample.y_test).mean())
    assert table[[c for c in table.columns if c.startswith("MNIST test")][0]].iloc[0] == pytest.approx(want)
    assert "No runs submitted yet" in texts(at.caption)


def test_the_class_page_with_no_digits_points_to_draw(db):
    at = open_page(CLASS)
    assert "No digits yet" in texts(at.info)


@pytest.mark.parametrize("kind", ["damaged", "newer"])
def test_an_unusable_store_turns_only_the_class_features_off(db, kind):
    if kind == "damaged":
        db.write_bytes(b"not a database at all " * 100)
        expected = "is damaged (not a readable SQLite database)"
    else:
        s = Store(db)
        s.close()
        import sqlite3
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE schema_version SET version = 99")
        expected = "was made by a newer release of this app"
    at = open_page(CLASS)
    assert expected in texts(at.info) and texts(at.info).count(".") <= 3
    at = open_page(DRAW)
    _draw(at, _drawn_seven())
    assert expected in texts(at.info)          # said where the button would be ...
    assert any('id="draw-prediction"' in m.value for m in at.markdown)   # ... and Draw still reads the digit


def _make_read_only(path):
    """Make the file unwritable; returns how to undo it. chmod for a user; root ignores
    permissions, so then the immutable flag (chattr +i), which binds root too."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        return lambda: path.chmod(0o644)
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root where chattr +i is not supported: no way to make the file unwritable")
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture
def own_postgres(monkeypatch):
    """The class store on a PostgreSQL server of its own (this test kills it)."""
    import pg_server
    reason = pg_server.missing_reason()
    if reason:
        pytest.skip(reason)
    with pg_server.postgres() as url:
        monkeypatch.setenv("DIGITS_DB", pg_server.new_database(url))
        yield url


def _says_why_in_a_sentence(at, why):
    said = [e.value for e in [*at.info, *at.error] if why in e.value]
    assert said, texts(at.info) + texts(at.error)
    assert "\n" not in said[0] and len(re.findall(r"[.;](\s|$)", said[0])) <= 2, said[0]    # why, and what to do


FAILURES = {"read-only": "cannot be written", "removed": "was removed or replaced while the app was running",
            "damaged": "is damaged (not a readable SQLite database)", "postgresql killed": "cannot be reached"}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_the_database_failing_while_the_app_runs_turns_only_the_class_features_off(db, monkeypatch, request,
                                                                                   failure):
    monkeypatch.setattr(store_module, "MIN_INTERVAL", 0.0)
    if failure == "postgresql killed":
        server = request.getfixturevalue("own_postgres")
    at = open_page(DRAW)
    _draw(at, _drawn_seven())
    at.selectbox(key="class_meant").set_value(7).run()
    at.button(key="class_add").click().run()
    assert "Added your 7 to the class set (1 from you so far)" in texts(at.success)   # the store was open and used
    if failure == "read-only":
        request.addfinalizer(_make_read_only(db))
    elif failure == "removed":
        for f in db.parent.glob(db.name + "*"):          # the file, its -wal and -shm
            f.unlink()
    elif failure == "damaged":
        db.write_bytes(b"not a database at all " * 100)   # overwritten in place: the same file, now garbage
    else:
        import pg_server
        pg_server.kill(server)
    at.button(key="class_add").click().run()              # the student adds another: it is not confirmed
    assert not at.exception, at.exception
    _says_why_in_a_sentence(at, FAILURES[failure])
    assert "Added your 7" not in texts(at.success)
    assert any('id="draw-prediction"' in m.value for m in at.markdown)   # Draw still reads the digit
    at.switch_page(CLASS).run()
    assert not at.exception, at.exception
    _says_why_in_a_sentence(at, FAILURES[failure])
    at.switch_page(TRAIN).run()                           # and the rest of the app works
    assert not at.exception and at.button(key="train_start")


def test_submit_this_run_puts_the_servers_own_measure_on_the_leaderboard(db):
    at = open_page(TRAIN)
    net = Network([784, 16, 10], seed=3)
    info = {"label": "your model", "settings": {"sizes": [784, 16, 10], "lr": 0.5, "activation": "relu"},
            "test_accuracy": 0.999}           # what the page says: never what is stored
    at.session_state["model"], at.session_state["model_info"] = net, info
    at.run()
    at.text_input(key="class_nickname_submit").input("Bo")
    at.run()
    at.button(key="class_submit").click().run()
    assert not at.exception, at.exception
    sample = mnist_data.load_sample()
    measured = float((net.predict_proba(sample.x_test.astype(np.float32) / 255).argmax(1) == sample.y_test).mean())
    assert f"{measured:.2%}" in texts(at.success)
    s = Store(db)
    (row,) = s.scores()
    s.close()
    assert row["nickname"] == "Bo" and row["accuracy"] == pytest.approx(measured) and row["n_test"] == 2000
    assert row["lesson"] == {"hidden": "16", "lr": "0.5"} or row["lesson"]["hidden"] == "16"
    at = open_page(CLASS)
    board = at.table[-1].value
    assert list(board["nickname"]) == ["Bo"] and "hidden=16" in board["lesson link"][0]


def test_a_cnn_on_the_leaderboard_has_its_real_lesson_link(db):
    """Issue 22: a CNN's row had the lesson link None. Its link opens Train with its settings (kind=cnn, filters...),
    also for a row submitted before CNNs had links (lesson {} in the store)."""
    from engine.convnet import ConvNet
    from ui.training import settings_from_values
    settings = settings_from_values({"train_kind": "cnn", "train_filters": "4", "train_lr": 0.05}).as_dict()
    net = ConvNet(settings["layers"], seed=0)
    s = Store(db)
    s.add_score("old", "Old", 0.5, 2000, "built-in sample", net.describe(), settings, {})
    s.close()
    at = open_page(TRAIN)
    at.session_state["model"] = net
    at.session_state["model_info"] = {"label": "your model", "settings": settings}
    at.run()
    at.button(key="class_submit").click().run()
    assert "measured just now by the server" in texts(at.success)
    s = Store(db)
    rows = s.scores()
    s.close()
    new = next(r for r in rows if r["session"] != "old")
    assert new["lesson"] == {"kind": "cnn", "filters": "4", "lr": "0.05"}
    at = open_page(CLASS)
    links = list(at.table[-1].value["lesson link"])
    assert len(links) == 2 and all(link.startswith("[reproduce](/train?") for link in links)
    assert [dict(p.split("=") for p in link[:-1].split("?")[1].split("&")) for link in links] == [new["lesson"]] * 2


def test_a_nickname_is_shown_on_the_leaderboard_exactly_as_typed(db):
    """The leaderboard is a Markdown table (st.table): a nickname must not become a link, bold text or an icon."""
    s = Store(db)
    for i, nick in enumerate(["**Bo**", "[x](http://e.com)", ":material/home:"]):
        s.add_score(f"s{i}", nick, 0.9 - i / 100, 2000, "built-in sample", "784-10", {"sizes": [784, 10]}, {})
    s.close()
    board = open_page(CLASS).table[-1].value
    assert list(board["nickname"]) == [class_set.literal(n) for n in ["**Bo**", "[x](http://e.com)", ":material/home:"]]
    assert list(board["nickname"])[0] == r"\*\*Bo\*\*" and "\u2060\\:\u2060" in list(board["nickname"])[2]


def test_submit_this_run_on_compare_after_a_real_run(db):
    from apptest_utils import run_until_done
    at = open_page(TRAIN)
    at.text_input(key="train_hidden").set_value("8").run()
    at.number_input(key="train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    assert run_until_done(at) == "finished"
    at.switch_page("app_pages/8_compare.py").run()
    assert not at.exception, at.exception
    at.button(key="class_submit").click().run()
    assert "measured just now by the server" in texts(at.success)
    s = Store(db)
    (row,) = s.scores()
    s.close()
    assert row["model"] == at.session_state["model"].describe() and row["lesson"] == {"hidden": "8", "epochs": "1"}


def test_a_steered_run_keeps_every_change_of_its_learning_rate(db):
    """Issue 22: a run started at lr 0.01 and steered to 0.2 is "0.01 → 0.2 at batch N" in its name, in
    Compare's table and its CSV, and on the leaderboard (its CSV is the table's), not "lr 0.2"."""
    from apptest_utils import run_until_done, wait_for
    at = open_page(TRAIN)
    at.text_input(key="train_hidden").set_value("8")
    at.number_input(key="train_lr").set_value(0.01)
    at.number_input(key="train_batch_size").set_value(8)
    at.number_input(key="train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    run, job = at.session_state["trainer"], at.session_state["train_job"]
    wait_for(lambda: run.step >= 3, what="3 batches")
    job.pause()
    at.number_input(key="train_lr").set_value(0.2).run()
    assert len(run.history.marks) == 1
    batch = run.history.marks[0][0]
    steered = f"0.01 → 0.2 at batch {batch:,}"
    job.resume()
    assert run_until_done(at) == "finished"
    assert f"lr {steered}: finished" in texts(at.caption)                 # Train: "Runs this session"
    at.switch_page("app_pages/8_compare.py").run()
    assert not at.exception, at.exception
    record = at.session_state["runs"][-1]
    assert record["settings"]["lr"] == 0.2 and f"lr {steered}" in record["name"]
    assert at.text_input(key=f"cmp_name_{record['id']}").value == record["name"]
    assert f"lr {steered}" in texts(at.caption)
    table = at.dataframe[0].value
    assert table.loc["learning rate", record["name"]] == steered
    assert steered in runs.side_by_side([record]).to_csv()         # "Settings and results (CSV)"
    history = pd.read_csv(io.StringIO(training.history_csv([record])))              # "History (CSV)"
    changes = history[history["kind"] == "change"]
    assert list(changes["batch"]) == [batch] and list(changes["change"]) == ["lr 0.01 → 0.2"]
    at.button(key="class_submit").click().run()
    assert "measured just now by the server" in texts(at.success)
    at.switch_page("app_pages/0_home.py").run()
    assert f"learning rate {steered}," in texts(at.markdown)                # Home: how the model was trained
    at = open_page(CLASS)
    board = at.table[-1].value
    assert list(board["learning rate"]) == [steered]
    s = Store(db)
    csv = class_set.leaderboard_frame(s.scores()).to_csv(index=False)     # the "Leaderboard (CSV)" button's data
    s.close()
    assert "lr 0.2" not in csv and steered in csv


def test_teacher_controls_need_the_passcode_and_never_show_it(db, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("DIGITS_TEACHER_PASSCODE", "tulip-42-secret")
    s = Store(db, min_interval=0)
    ids = [s.add_drawing("s", i % 10, digit(i), PNG) for i in range(6)]
    s.close()
    class_set._gates.clear()
    at = open_page(CLASS)
    at.text_input(key="class_passcode").input("wrong").run()
    assert "Wrong passcode (answered after 1 s" in texts(at.error)
    assert not [b for b in at.button if b.key == "class_clear"]
    at.text_input(key="class_passcode").input("tulip-42-secret").run()
    assert "Teacher controls on" in texts(at.success)
    assert "tulip-42-secret" not in str(at._tree) and "tulip-42-secret" not in str(dict(at.query_params))
    assert at.session_state["class_passcode"] == ""           # what was typed is not kept
    at.number_input(key="class_rm_drawing").set_value(ids[0]).run()
    at.button(key="class_rm_drawing_btn").click().run()
    s = Store(db)
    assert s.count() == 5
    at.checkbox(key="class_clear_sure").check().run()
    at.button(key="class_clear").click().run()
    assert s.count() == 0
    s.close()
    assert "tulip-42-secret" not in caplog.text                # nor in any log


def test_no_passcode_set_means_no_teacher_controls_and_the_page_says_how_to_set_one(db):
    at = open_page(CLASS)
    assert not [t for t in at.text_input if t.key == "class_passcode"]
    assert not [e for e in at.expander if "Teacher controls" in e.label]
    said = texts(at.caption)
    assert "controls (remove a drawing" in said and "are off" in said
    assert "DIGITS_TEACHER_PASSCODE=… streamlit run dashboard.py" in said and "start it again" in said


def test_the_teacher_clears_the_leaderboard_for_the_next_class(db, monkeypatch):
    monkeypatch.setenv("DIGITS_TEACHER_PASSCODE", "tulip-42-secret")
    s = Store(db, min_interval=0)
    for i in range(3):
        s.add_score(f"s{i}", f"kid{i}", 0.9 + i / 100, 2000, "built-in sample", "784-8-10", {"lr": 0.1}, {"hidden": "8"})
    s.add_drawing("s", 3, digit(3), PNG)
    s.close()
    class_set._gates.clear()
    at = open_page(CLASS)
    assert not texts(at.caption).count("are off")            # a passcode is set: no such note
    at.text_input(key="class_passcode").input("tulip-42-secret").run()
    assert at.button(key="class_clear_scores").disabled      # not without "Yes, remove every row"
    at.checkbox(key="class_clear_scores_sure").check().run()
    at.button(key="class_clear_scores").click().run()
    assert not at.exception, at.exception
    assert "Removed 3 leaderboard rows." in texts(at.success)
    s = Store(db)
    assert s.scores() == [] and s.count() == 1                # the class set is left alone
    s.close()


def test_the_export_round_trips_through_the_mnist_folder_reader(tmp_path):
    from classroom.export import mnist_zip
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(57, 784), dtype=np.uint8)
    y = np.arange(57, dtype=np.uint8) % 10
    with zipfile.ZipFile(io.BytesIO(mnist_zip(x, y))) as z:
        z.extractall(tmp_path)
    folder = tmp_path / "class-digits"
    data = mnist_data.load_mnist(data_dir=str(folder))        # as MNIST_DIR or Home's folder box reads it
    assert not data.is_sample and len(data.y_train) + len(data.y_test) == 57
    assert sorted(data.y_test) == list(range(10))            # 20% of each digit's 5 or 6 held out: one each
    got = np.concatenate([data.x_train, data.x_test])
    got_y = np.concatenate([data.y_train, data.y_test])
    order = np.lexsort(got.T[::-1])
    want = np.lexsort(x.T[::-1])
    assert np.array_equal(got[order], x[want]) and np.array_equal(got_y[order], y[want])


def test_train_with_our_digits_holds_a_share_out_and_reports_it(db):
    from apptest_utils import get, run_until_done
    s = Store(db, min_interval=0)
    sample = mnist_data.load_sample()
    for i in range(40):                                  # 40 real digits, 4 of each kind
        k = int(np.flatnonzero(sample.y_test == i % 10)[i // 10])
        s.add_drawing("s", i % 10, sample.x_test[k], PNG)
    s.close()
    at = open_page(TRAIN)
    at.toggle(key="train_class_digits").set_value(True).run()
    at.text_input(key="train_hidden").set_value("16").run()
    at.number_input(key="train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    run = get(at, "trainer")
    assert run is not None, texts(at.error)
    assert len(run.labels) == len(sample.y_train) + 30         # 3 of each digit's 4 trained on, 1 held out
    assert run_until_done(at) == "finished"
    caption = texts(at.caption)
    assert "trained with 30 of our digits" in caption and "on the 10 class digits it never saw" in caption


def get_status(at):
    return at.session_state["train_status"]


def test_train_with_our_digits_and_an_empty_class_set_says_why(db):
    at = open_page(TRAIN)
    at.toggle(key="train_class_digits").set_value(True).run()
    at.button(key="train_start").click().run()
    assert at.session_state["train_error"] == ("Can't start: our class set has fewer than 2 digits: "
                                               "add some on the Draw page first.")
    assert get_status(at) == "idle"
