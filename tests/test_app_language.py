"""The "From digits to words" pages (app_pages/10_tokens.py, 11_next_character.py) with AppTest:
every widget, every text (names, Shakespeare, pasted, uploaded), bad uploads in one sentence, and
every number on the pages checked against a computation written here."""
import math
import re
from collections import Counter

import numpy as np
import pytest
from apptest_utils import open_page, texts

from engine.language import bpe
from engine.language.text import MAX_TEXT_BYTES, Vocabulary, load_corpus, split

TOKENS, NEXT = "app_pages/10_tokens.py", "app_pages/11_next_character.py"
PASTED = "the cat sat on the mat.\nthe dog sat on the log.\n" * 4 + "zebra"


def markdown(at):
    return "\n".join(str(m.value) for m in at.markdown)


def part(text):
    """(training part, validation part, vocabulary of the training part) as the pages split a text."""
    train, val = split(text)
    return train, val, Vocabulary.of(train)


def own_text(page, pasted=None, upload=None):
    at = open_page(page)
    at.radio(key="lm_text").set_value("yours").run()
    if pasted is not None:
        at.text_area(key="lm_paste").input(pasted).run()
    if upload is not None:
        at.file_uploader(key="lm_upload").set_value(upload).run()
    assert not at.exception, at.exception
    return at


# ------------------------------------------------------------------ Tokens
@pytest.mark.parametrize("corpus", ["names", "shakespeare"])
def test_tokens_page_shows_the_vocabulary_and_the_typed_texts_ids(corpus):
    at = open_page(TOKENS)
    at.radio(key="lm_text").set_value(corpus).run()
    train, _, vocab = part(load_corpus(corpus))
    words = markdown(at)
    assert f"({len(train):,} characters) has **{vocab.size}** different characters" in words
    typed = {"names": "emma", "shakespeare": "To be, or not to be"}[corpus]
    assert at.text_input(key="tk_typed").value == typed
    assert f"ids = {vocab.encode(typed).tolist()}" in texts(at.code)
    assert not at.warning


def test_unknown_characters_are_named_counted_and_left_out():
    at = open_page(TOKENS)
    at.radio(key="lm_text").set_value("shakespeare").run()
    at.text_input(key="tk_typed").input("Zoë says 😀😀 hi").run()
    assert not at.exception
    (warning,) = at.warning
    assert warning.value.startswith("2 different characters of your text are not in the vocabulary of "
                                    "Tiny Shakespeare: ‘😀’ (2 times), ‘ë’ (once).")
    _, _, vocab = part(load_corpus("shakespeare"))
    assert f"ids = {vocab.encode('Zo says  hi').tolist()}" in texts(at.code)
    at.text_input(key="tk_typed").input("😀").run()          # nothing the vocabulary knows
    assert not at.exception and "at least one character of the vocabulary" in texts(at.info)


def test_the_one_hot_and_embedding_numbers_are_the_engines():
    at = open_page(TOKENS)
    at.radio(key="lm_text").set_value("shakespeare").run()
    at.slider(key="tk_width").set_value(6).run()
    at.slider(key="tk_pos").set_value(3).run()
    assert not at.exception
    _, _, vocab = part(load_corpus("shakespeare"))
    typed = "To be, or not to be"
    i = vocab.ids()[typed[3]]
    words = markdown(at)
    assert "make a 12×65 matrix: 780 numbers, 12 of them 1" in words
    assert f"Character 3 of your text, ‘b’, is id {i}" in words
    assert "The same 6 numbers, exactly. The product does V × width = 390 multiplications, 384 of them by 0" in words
    codes = [str(c.value) for c in at.code]
    got = [c for c in codes if c.startswith(f"one_hot({i}) @ E")][0].split("=\n")[1]
    want = [c for c in codes if c.startswith(f"E[{i}]")][0].split("=\n")[1]
    assert got == want
    from ui.language.tokens import embedding
    row = embedding(65, 6).W[i]
    assert [float(v) for v in got.strip("[] ").split()] == pytest.approx(row.tolist(), abs=5e-5)
    table = at.dataframe[0].value
    assert i in table.index and table.loc[i, "e0"] == pytest.approx(row[0])


def test_bpe_merges_and_token_counts_are_the_trainers():
    at = open_page(TOKENS)
    at.slider(key="tk_merges").set_value(37).run()
    assert not at.exception
    train, val, _ = part(load_corpus("names"))
    tok = bpe.train(train.encode()[:200_000].decode(), 500)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tokens in the vocabulary"] == "293"
    assert metrics["Tokens in the sample"] == f"{tok.lengths[37]:,}"
    assert metrics["Bytes per token"] == f"{tok.lengths[0] / tok.lengths[37]:.2f}"
    assert f"in {len(tok.first(37).encode('emma'))} tokens after 37 merges" in markdown(at)
    merges = at.dataframe[-1].value
    assert len(merges) == 37 and merges["times"].tolist() == tok.counts[:37][::-1]
    at.slider(key="tk_merges").set_value(0).run()
    assert not at.exception and "in 4 tokens after 0 merges" in markdown(at)


# ------------------------------------------------------------------ your own text
def test_a_pasted_text_is_read_on_both_pages():
    at = own_text(TOKENS, pasted=PASTED)
    train, val, vocab = part(PASTED)
    assert f"The training part of your text ({len(train):,} characters) has **{vocab.size}**" in markdown(at)
    at.switch_page(NEXT).run()
    assert not at.exception
    assert f"The table has {vocab.size} × {vocab.size}" in markdown(at)
    # 'z', 'e', 'b', 'r' of "zebra" at the end: which of them training never has, said once
    unknown = Counter(c for c in val if c not in vocab.chars)
    assert unknown and texts(at.info).count("The validation part of your text has") == 1
    assert f"{len(unknown)} character" in texts(at.info)


@pytest.mark.parametrize("name, data, words", [
    ("empty.txt", b"", "empty.txt is empty (0 bytes): choose a .txt file with some text in it."),
    ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.txt is not a text file (it has zero bytes"),
    ("latin.txt", "Là-bas, café crème et thé.".encode("latin-1") * 3, "latin.txt is not UTF-8 text (byte 1 cannot"),
    ("huge.txt", b"a" * (MAX_TEXT_BYTES + 10), "huge.txt is too big (2.0 MB; at most 2 MB)"),
    ("tiny.txt", b"hi there", "tiny.txt is too short (8 characters; at least 20)"),
])
@pytest.mark.parametrize("page", [TOKENS, NEXT])
def test_a_bad_upload_gets_one_sentence_and_the_page_stops_there(page, name, data, words):
    at = own_text(page, upload=(name, data, "text/plain"))
    assert len(at.error) == 1 and at.error[0].value.startswith(words), [e.value for e in at.error]
    assert not at.header, "nothing is drawn from a text that cannot be read"


def test_an_upload_wins_over_the_paste_and_is_kept_for_the_other_page():
    text = "Éowyn rode to war. Merry rode with her.\n" * 10
    at = own_text(NEXT, pasted=PASTED, upload=("rohan.txt", text.encode("utf-8-sig"), "text/plain"))
    train, _, vocab = part(text)
    assert f"The table has {vocab.size} × {vocab.size}" in markdown(at)
    at.switch_page(TOKENS).run()          # the file box forgets its file; the text stays
    assert not at.exception
    assert "Reading the file rohan.txt: the last text you gave here" in texts(at.caption)
    assert f"({len(train):,} characters) has **{vocab.size}**" in markdown(at)


def test_pasting_nothing_says_so_without_an_error():
    at = own_text(TOKENS)
    assert "No text yet" in texts(at.info) and not at.error
    at.text_area(key="lm_paste").input(PASTED).run()
    assert not at.info and at.header
    at.text_area(key="lm_paste").input("").run()            # emptied again: no text, not the old one
    assert "No text yet" in texts(at.info) and not at.header


# ------------------------------------------------------------------ Next character
def counts_of(text):
    train, val, vocab = part(text)
    ids = vocab.encode(train)
    N = np.zeros((vocab.size, vocab.size), int)
    for a, b in zip(ids[:-1], ids[1:]):
        N[a, b] += 1
    return train, val, vocab, N


def test_next_character_counts_and_losses_are_right():
    at = open_page(NEXT)
    train, val, vocab, N = counts_of(load_corpus("names"))
    a, b = np.unravel_index(N.argmax(), N.shape)
    words = markdown(at)
    assert f"The most frequent pair: ‘{'↵' if vocab.chars[a] == chr(10) else vocab.chars[a]}’ then " \
           f"‘{'↵' if vocab.chars[b] == chr(10) else vocab.chars[b]}’, {N[a, b]:,} times" in words
    assert f"{int((N == 0).sum()):,} cells are 0" in words
    for k in (0.0, 1.0, 100.0):
        at.select_slider(key="nc_k").set_value(k).run()
        assert not at.exception
        P = (N + k) / (N + k).sum(axis=1, keepdims=True)
        vi = np.array([vocab.ids()[c] for c in val])
        with np.errstate(divide="ignore"):
            want = -np.mean(np.log(P[vi[:-1], vi[1:]]))
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Loss on the validation part"] == (f"{want:.4f}" if np.isfinite(want) else "infinite")
        assert metrics["Knowing nothing: log V"] == f"{math.log(27):.4f}"


def test_without_smoothing_shakespeares_validation_loss_is_infinite_and_said_why():
    at = open_page(NEXT)
    at.radio(key="lm_text").set_value("shakespeare").run()
    at.select_slider(key="nc_k").set_value(0.0).run()
    assert not at.exception
    train, val, vocab, N = counts_of(load_corpus("shakespeare"))
    vi = np.array([vocab.ids()[c] for c in val])
    never = int((N[vi[:-1], vi[1:]] == 0).sum())
    assert never > 0
    assert f"it is infinite: {never:,} of its pairs never occur in the training part" in markdown(at)


def test_the_chosen_characters_row_and_its_sentence():
    at = open_page(NEXT)
    train, val, vocab, N = counts_of(load_corpus("names"))
    q = vocab.ids()["q"]
    at.selectbox(key="nc_char").set_value(q).run()
    assert not at.exception
    row = N[q] + 1
    best = int(row.argmax())
    assert (f"‘q’ is followed by something {N[q].sum():,} times in the training part. With k = 1, the most likely "
            f"next character is ‘{vocab.chars[best]}’: ({N[q, best]:,} + 1) / ({N[q].sum():,} + 27 × 1) = "
            f"{row[best] / row.sum():.1%}.") in markdown(at)


@pytest.mark.parametrize("steps", [0, 10, 300])
def test_the_network_comes_to_the_count_table(steps):
    at = open_page(NEXT)
    at.slider(key="nc_steps").set_value(steps).run()
    assert not at.exception
    m = re.search(r"After (\d+) steps the network's loss on the training part is \*\*([\d.]+)\*\* nats per "
                  r"character; the count table without smoothing \(k = 0\) has \*\*([\d.]+)\*\*.*differ by at "
                  r"most \*\*([\d.]+)\*\*", markdown(at))
    assert m and int(m.group(1)) == steps
    train, _, vocab, N = counts_of(load_corpus("names"))
    P0 = N / N.sum(axis=1, keepdims=True)
    best = -np.sum(N * np.log(np.where(N > 0, P0, 1))) / N.sum()
    assert float(m.group(3)) == pytest.approx(best, abs=5e-5)
    if steps == 0:
        assert float(m.group(2)) == pytest.approx(math.log(27), abs=0.01)     # a nearly uniform start
    if steps == 300:
        assert float(m.group(2)) - best < 1e-4 and float(m.group(4)) < 1e-3


def test_sampling_follows_the_temperature_source_and_button():
    at = open_page(NEXT)
    _, _, vocab, N = counts_of(load_corpus("names"))
    sample = [str(c.value) for c in at.code if "\n" in str(c.value) and "def " not in str(c.value)]
    assert sample
    at.button(key="nc_again").click().run()
    assert not at.exception
    again = [str(c.value) for c in at.code if "\n" in str(c.value) and "def " not in str(c.value)]
    assert again != sample
    at.slider(key="nc_temp").set_value(0.1).run()
    at.radio(key="nc_source").set_value("the network").run()
    assert not at.exception
    P = (N + 1) / (N + 1).sum(axis=1, keepdims=True)
    top = int(P[0].argmax())
    m = re.search(r"has ([\d.]+)% at T = 1 and ([\d.]+)% at T = 0.1", markdown(at))
    assert m and float(m.group(2)) > float(m.group(1))
    assert "drawn one by one from the network after 100 steps" in markdown(at)
    words = markdown(at)
    assert f"after ‘↵’, ‘{vocab.chars[top]}’ has" in words


def test_a_character_that_only_ends_the_training_part_has_an_even_row():
    text = "ab" * 45 + "Q" + "ab" * 5                     # training part: "abab…abQ", validation "abab…"
    assert split(text)[0].endswith("Q") and text.count("Q") == 1
    at = own_text(NEXT, pasted=text)
    at.select_slider(key="nc_k").set_value(0.0).run()
    at.selectbox(key="nc_char").set_value(0).run()         # ids in sorted order: 'Q' 0, 'a' 1, 'b' 2
    assert not at.exception
    assert "‘Q’ is never followed by anything in the training part (it only ends it): with nothing to count, " \
           "every next character gets the same 1/3 = 33.3%." in markdown(at)
    at.select_slider(key="nc_k").set_value(1.0).run()       # smoothed: (0 + 1) / (0 + 3 × 1), the same
    assert "every next character gets the same 1/3 = 33.3%." in markdown(at)
    at.selectbox(key="nc_char").set_value(1).run()
    assert "‘a’ is followed by something 45 times in the training part. With k = 1, the most likely next " \
           "character is ‘b’: (45 + 1) / (45 + 3 × 1) = 95.8%." in markdown(at)


@pytest.mark.parametrize("page", [TOKENS, NEXT])
def test_both_pages_in_presenter_mode_on_shakespeare(page):
    at = open_page(page, query={"present": "1"})
    at.radio(key="lm_text").set_value("shakespeare").run()
    assert not at.exception and at.session_state["presenter"]
    assert len(at.get("vega_lite_chart")) >= (2 if page == TOKENS else 5)


# ------------------------------------------------------------------ in Italian
def test_both_pages_speak_italian_with_decimal_commas():
    """?lang=it: the pages' words from the Italian catalogue, their numbers written as Italian writes them."""
    import i18n
    at = open_page(TOKENS, {"lang": "it"})
    try:
        assert [h.value for h in at.header][0] == "1 · I caratteri diventano numeri"
        metrics = {m.label: m.value for m in at.metric}
        assert re.fullmatch(r"\d+,\d\d", metrics["Byte per token"]), metrics        # 1,31
        assert re.fullmatch(r"\d{1,3}(\.\d{3})+", metrics["Token nel campione"]), metrics   # 153.064
        assert "La parte di addestramento (i nomi, 205.331 caratteri)" in markdown(at)
        at.switch_page(NEXT)
        at.run()
        assert not at.exception, at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert re.fullmatch(r"\d,\d{4}", metrics["Perdita sulla parte di addestramento"]), metrics
        assert "è seguito da qualcosa" in markdown(at) and "%" in markdown(at)
    finally:
        i18n.use(i18n.SOURCE)           # AppTest runs the page in this thread's context: English for the next test
