"""The notebook's markdown follows the page's language (issue 24). Streamlit builds a download button's deferred
data when the button is clicked, in a server thread that does not know the language of the script run that drew
it: the button keeps the language it was drawn in."""
import json
import threading

import i18n
from ui import notebook_button


class _Where:
    def download_button(self, *args, **kwargs):
        self.kwargs = kwargs


def test_the_notebook_is_written_in_the_language_of_the_page_that_drew_the_button():
    where = _Where()
    i18n.use("it")
    try:
        notebook_button.download_button("test_notebook", where=where)
    finally:
        i18n.use("en")
    built = {}
    clicked = threading.Thread(target=lambda: built.update(data=where.kwargs["data"]()))    # the server's thread
    clicked.start()
    clicked.join()
    cells = json.loads(built["data"])["cells"]
    markdown = [("".join(c["source"])) for c in cells if c["cell_type"] == "markdown"]
    assert markdown[0].startswith("# Il tuo addestramento, in NumPy e in PyTorch"), markdown[0]
    assert markdown[1].startswith("## 1. I dati")
    assert i18n.current() == "en"          # this thread's language is untouched
