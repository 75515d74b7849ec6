"""Entry script for ``streamlit run`` (used by ``curate ui``).

It lives in ``curate/ui/entry/``, not beside ``curate/ui/pages/``: Streamlit's legacy multipage discovery
treats a ``pages/`` folder next to the entry script as pages, which made a first deep link (``/label``)
render the module file instead of the page.
"""

from curate.ui.app import run

run()
