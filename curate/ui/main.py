"""Entry script for ``streamlit run`` (used by ``curate ui``)."""

from curate.ui.app import run

run()
