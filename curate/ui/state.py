"""View state shared by the pages: which workspace is open, and how errors are shown."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from curate import browse
from curate.errors import CurateError
from curate.store.workspace import ENV_VAR, Workspace


def workspace() -> Workspace:
    """The workspace chosen in the sidebar (default: $CURATE_WORKSPACE, else the current folder)."""
    path = st.session_state.get("workspace_path") or os.environ.get(ENV_VAR) or os.getcwd()
    return Workspace(path)


def workspace_sidebar() -> None:
    default = os.environ.get(ENV_VAR) or os.getcwd()
    st.session_state.setdefault("workspace_path", default)
    st.sidebar.text_input("Workspace folder", key="workspace_path",
                          help="A folder holding curate.duckdb; created on first write.")


@contextmanager
def user_errors() -> Iterator[None]:
    """Show a curate error as one line with st.error instead of a traceback."""
    try:
        yield
    except CurateError as exc:
        st.error(str(exc))


def coming(section: str, what: list[str]) -> None:
    """A page whose stage is not built yet: say what it will hold."""
    st.header(section)
    st.info(f"The {section} stage is coming. It will let you:")
    st.markdown("\n".join(f"- {w}" for w in what))


def flash(key: str) -> None:
    """Show, once, the success message a page stored under ``key`` before its ``st.rerun()``."""
    if message := st.session_state.pop(key, None):
        st.success(message)


def datasets_or_hint(ws: Workspace) -> list[dict]:
    """The workspace's datasets; with none, say how to add one (the caller returns on ``[]``)."""
    sets = browse.datasets(ws)
    if not sets:
        st.info("No datasets yet. Add one on the Data page, or run `curate demo` for a demo workspace.")
    return sets
