"""What the Train page's buttons say is in the page's language (issue 24): a button's callback runs before
dashboard.py sets the run's language (a script run in a new thread starts in English), so the callbacks that
write words (Start's refusal, a run stopped and recorded) set it themselves."""
from apptest_utils import open_page, run_until_done

PAGE = "app_pages/4_train.py"


def test_a_refused_start_says_why_in_italian():
    at = open_page(PAGE, query={"lang": "it"})
    at.text_input(key="train_hidden").set_value("abc").run()
    at.button(key="train_start").click().run()
    assert [e.value for e in at.error] == [
        "Impossibile avviare: gli strati nascosti devono essere numeri interi separati da virgole, "
        "come 128 o 256,128 (ricevuto 'abc')."]


def test_a_stopped_run_is_recorded_in_italian():
    at = open_page(PAGE, query={"lang": "it"})
    at.number_input(key="train_epochs").set_value(200).run()
    at.button(key="train_start").click().run()
    at.button(key="train_stop").click().run()
    run_until_done(at)
    info = at.session_state["model_info"]
    assert info["label"].startswith("il tuo modello (") and info["origin"] == "addestrato nella pagina Addestra"
