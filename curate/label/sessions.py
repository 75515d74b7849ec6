"""UI sign-in that lasts: a token signs an annotator in once; a random session id (the browser keeps
it in a cookie) then signs them in again on every reload until it expires or they sign out.

Only a sha256 of the session id is stored, like the tokens (see ``annotators``).
"""

from __future__ import annotations

import secrets

from curate.label.annotators import sign_in, token_hash
from curate.store import sessions as store
from curate.store.workspace import Workspace

HOURS = 12.0  # how long a session lasts


def open_session(workspace: Workspace, token: str, *, hours: float = HOURS) -> tuple[str, str]:
    """Sign in with an annotator token: ``(annotator, session id)``; refuses unknown tokens."""
    name = sign_in(workspace, token)
    return name, session_for(workspace, name, hours=hours)


def session_for(workspace: Workspace, annotator: str, *, hours: float = HOURS) -> str:
    """A new session id for an existing annotator (the caller checked who they are)."""
    session_id = secrets.token_urlsafe(24)
    with workspace.transaction() as con:
        store.add_session(con, token_hash(session_id), annotator, hours)
    return session_id


def resume(workspace: Workspace, session_id: str | None) -> str | None:
    """The annotator a live session id signs in, else None (unknown, expired or signed out)."""
    if not session_id or not workspace.exists():
        return None
    with workspace.connect() as con:
        return store.session_annotator(con, token_hash(session_id))


def close_session(workspace: Workspace, session_id: str | None) -> None:
    """Sign out: the session id stops working."""
    if session_id and workspace.exists():
        with workspace.transaction() as con:
            store.delete_session(con, token_hash(session_id))
