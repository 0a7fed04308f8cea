"""Issue 21, item 2, in a real browser: the PyTorch page's comparison of a CNN with mini-batches of 600
(well over one of the Trainer's parts; 3,000 took minutes) waits in the server's line of runs, runs in the
Trainer's parts on both sides, and keeps the server's memory bounded (its peak resident memory, VmHWM in
/proc/<pid>/status, measured before and after).

A server of its own with DIGITS_MAX_TRAINING_RUNS=1: two browsers ask for the comparison, the second
waits for a free place until the first is done, and then answers Stop.
"""
import re
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, button, key, no_exception, open_page, wait_for_app, wait_visible  # noqa: E402

BATCH = 600
GROWTH_MB = 300        # the peak may grow by this much at most (measured: 182-205 MB); the whole batch at once in
                       # PyTorch: about 3 GB at 3,000 (budget-pages report), so about 600 MB at 600 (scaled, not measured)


def server_pid(url):
    """The process id of the streamlit server listening on url's port (started by this test run)."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(args) and b"--server.port" in args and \
                args[args.index(b"--server.port") + 1] == port.encode():
            return int(proc.name)
    raise AssertionError(f"no streamlit server on port {port}")


def memory_mb(pid, field="VmHWM"):
    """VmHWM: the most resident memory the process has had (MB); VmRSS: what it has now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for process {pid}")


def big_batch_cnn(path):
    """A CNN (conv 32@5x5 p2, pool 2, twice) saved with batch size BATCH: its test-set accuracy is under
    a second of arithmetic (measured on the Train page at once), its comparison is not."""
    from engine.convnet import ConvNet, cnn_spec
    from engine.modelfile import model_to_bytes
    from engine.trainer import Settings
    spec = cnn_spec(filters=(32, 32), k=5, p=2, pool=2)
    settings = Settings(layers=spec, batch_size=BATCH, optimizer="adam", lr=0.001, epochs=1).as_dict()
    path.write_bytes(model_to_bytes(ConvNet(spec, seed=0), settings))
    return path


def ready_for_the_comparison(page, url, model, batches):
    """The model uploaded, the PyTorch page shown with `batches` mini-batches asked: "Run" is a click away."""
    open_page(page, f"{url}/train")
    uploader = key(page, "train_upload")
    wait_visible(page, uploader)
    uploader.locator("input[type=file]").set_input_files(str(model))
    wait_visible(page, page.get_by_text(re.compile(r"Loaded cnnbig\.npz: conv 32@5x5")), timeout=3 * WAIT)
    wait_for_app(page)
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Same network in PyTorch").click()
    box = key(page, "pytorch_batches").locator("input")
    wait_visible(page, box)
    wait_for_app(page)
    box.fill(str(batches))
    box.press("Enter")
    wait_for_app(page)


def test_pytorch_comparison_with_a_big_batch_waits_in_line_and_keeps_memory_bounded(browser, start_app, tmp_path):
    # Turns longer than the test: the second waits until the first is done (taking turns within a
    # mini-batch: tests/test_line_turns.py).
    url = start_app("budget-server.log", DIGITS_MAX_TRAINING_RUNS="1", DIGITS_TURN_SECONDS="600")
    pid = server_pid(url)
    model = big_batch_cnn(tmp_path / "cnnbig.npz")
    first, second = (browser.new_context(viewport={"width": 1280, "height": 900}).new_page() for _ in range(2))
    for p in (first, second):
        p.set_default_timeout(WAIT)
    # Different numbers: the first's result is not the second's. The second's 20 batches of 600 take far longer than
    # the moment between "Working" and its Stop (1 batch could end first on a busy machine: then nothing stops).
    for p, batches in ((first, 2), (second, 20)):
        ready_for_the_comparison(p, url, model, batches)
    button(first, "pytorch_run").click()
    # Measured from the first part done on (torch imported and the twin built: not the batch's share).
    expect(first.get_by_text(re.compile(r"Working · Running .* PyTorch twin side by side · [1-9]\d*%"))
           ).to_be_visible(timeout=WAIT)
    before = memory_mb(pid)
    button(second, "pytorch_run").click()
    # One place in the line, taken by the first browser: the second waits for it.
    expect(second.get_by_text(re.compile(r"Waiting for a free place \(1st in line\)"))).to_be_visible(timeout=WAIT)
    verdict = first.get_by_text(re.compile(r"Same network: the largest difference is"))
    expect(verdict.or_(first.locator("[data-testid=stException]")).first).to_be_visible(timeout=10 * WAIT)
    expect(first.get_by_text(f"Both trained 2 mini-batches of {BATCH}")).to_be_visible()
    no_exception(first)
    grown = memory_mb(pid) - before
    print(f"\nserver peak resident memory: {before:.0f} MB before, {before + grown:.0f} MB after "
          f"(now {memory_mb(pid, 'VmRSS'):.0f} MB)")
    assert grown < GROWTH_MB, f"the server's peak memory grew by {grown:.0f} MB"
    # The first is done: the second gets the place, and answers Stop.
    expect(second.get_by_text(re.compile(r"Working · Running"))).to_be_visible(timeout=3 * WAIT)
    button(second, "line_pytorch_stop").click()
    expect(second.get_by_text(re.compile(r"Stopped: running .* \(\d+% done\)"))).to_be_visible(timeout=WAIT)
    expect(key(second, "pytorch_run")).to_be_visible()
    no_exception(second)
    for p in (first, second):
        p.context.close()
