"""Select: the Versions page opened on its Select view (the view lives in ``curate.ui.select_view``;
this keeps one way in)."""

from __future__ import annotations

import streamlit as st

from curate.ui.pages import versions as versions_page


def render() -> None:
    """The Versions page opened on its Select view."""
    st.session_state["ver_view"] = "Select"
    versions_page.render()
