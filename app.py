"""curate's Streamlit UI: ``streamlit run app.py`` (or ``curate ui WORKSPACE``)."""

from curate.ui.app import run

run()
