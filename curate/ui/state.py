"""View state shared by the pages: the workspace the UI serves, who is signed in, and how errors show.

The workspace is the one ``curate ui`` was started on ($CURATE_WORKSPACE, else the current folder):
the UI never opens or creates a store at a path typed in the browser.

Sign-in: once a workspace has annotators, every page asks for a token. Signing in opens a server-side
session (``curate.label.sessions``) whose random id the browser keeps in a cookie, so a reload keeps
the annotator signed in until the session expires or they sign out.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from curate import browse
from curate.errors import CurateError
from curate.label import annotators, sessions
from curate.store.workspace import ENV_VAR, Workspace
from curate.ui import literal

COOKIE = "curate_session"
WHO = "annotator"          # session_state key: the signed-in annotator
SESSION = "session_id"     # session_state key: their session id


def workspace() -> Workspace:
    """The workspace the UI serves: $CURATE_WORKSPACE (set by ``curate ui``), else the current folder."""
    return Workspace(os.environ.get(ENV_VAR) or os.getcwd())


def workspace_sidebar() -> None:
    st.sidebar.caption("Workspace: " + literal.inline(workspace().root))


def who(ws: Workspace) -> str | None:
    """The signed-in annotator; ``local`` in a workspace without annotators; None when sign-in is needed."""
    name = st.session_state.get(WHO)
    if name is not None:
        return name  # checked at sign-in (or when the session cookie was resumed)
    if not annotators.needs_sign_in(ws):
        return annotators.LOCAL
    if name is None:
        cookie = _cookie()
        if (name := sessions.resume(ws, cookie)) is not None:
            st.session_state[WHO], st.session_state[SESSION] = name, cookie
    return name


def signed_in(ws: Workspace) -> str | None:
    """Who is signed in, after showing the sign-in form (or the sign-out button) as needed."""
    name = who(ws)
    _sync_cookie(st.session_state.get(SESSION) if name else None)
    if name is None:
        _sign_in_form(ws)
    elif name != annotators.LOCAL:
        st.sidebar.caption("Signed in as " + literal.inline(name))
        if st.sidebar.button("Sign out", key="signout", type="tertiary"):
            sessions.close_session(ws, st.session_state.pop(SESSION, None))
            st.session_state.pop(WHO, None)
            st.rerun()
    return name


def _sign_in_form(ws: Workspace) -> None:
    st.header("Sign in")
    with st.form("signin"):
        token = st.text_input("Sign-in token", type="password", key="signin_token",
                              help="Printed by `curate annotators add NAME`.")
        st.caption("This workspace has annotators: every page needs sign-in. No token? "
                   "`curate annotators add NAME` prints one (or `curate annotators token NAME` for a new one). "
                   "The demo workspace's annotators sign in with `demo-alice` and `demo-bob`.")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                st.session_state[WHO], st.session_state[SESSION] = sessions.open_session(ws, token)
            except CurateError as exc:
                st.error(str(exc))
                return
            st.rerun()


def _cookie() -> str | None:
    value = st.context.cookies.get(COOKIE)
    return value if isinstance(value, str) and value else None  # (AppTest has no real cookies)


def _sync_cookie(session_id: str | None) -> None:
    """Make the browser's cookie hold ``session_id`` (None: remove it) when it does not already."""
    if _cookie() == session_id:
        return
    value = json.dumps(f"{COOKIE}={session_id}; path=/; max-age={int(sessions.HOURS * 3600)}; samesite=strict"
                       if session_id else f"{COOKIE}=; path=/; max-age=0; samesite=strict")
    st.html(f"<script>document.cookie = {value};</script>", unsafe_allow_javascript=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Show a curate error as one line with st.error instead of a traceback."""
    try:
        yield
    except CurateError as exc:
        st.error(str(exc))


def flash(key: str) -> None:
    """Show, once, the success message a page stored under ``key`` before its ``st.rerun()``."""
    if message := st.session_state.pop(key, None):
        st.success(message)


def datasets_or_hint(ws: Workspace) -> list[browse.DatasetInfo]:
    """The workspace's datasets; with none, say how to add one (the caller returns on ``[]``)."""
    sets = browse.datasets(ws)
    if not sets:
        st.info("No datasets yet. Add one on the Data page, or run `curate demo` for a demo workspace.")
    return sets
