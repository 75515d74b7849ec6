"""Annotators and their sign-in tokens; the store keeps only a sha256 of each token."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from curate.errors import CurateError, InputError
from curate.store import label as store
from curate.store.workspace import Workspace

LOCAL = "local"  # who labels when a workspace has no annotators yet (single-user mode)
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SignInError(CurateError):
    """A token that belongs to no annotator."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def add_annotator(workspace: Workspace, name: str, *, token: str | None = None) -> str:
    """Create an annotator and return their sign-in token (shown once; only its hash is stored)."""
    if not _NAME.match(name) or name == LOCAL:
        raise InputError("annotator", f"invalid name {name!r}",
                         fix=f"use 1–64 letters, digits, '_', '.', '-' (not {LOCAL!r})")
    token = token or secrets.token_urlsafe(18)
    with workspace.transaction() as con:
        if store.find_annotator(con, name):
            raise InputError("annotator", f"{name!r} exists already",
                             fix=f"pick another name, or `curate annotators token {name}` for a new token")
        if store.annotator_by_hash(con, token_hash(token)):
            raise InputError("--token", "this token belongs to another annotator", fix="use another token")
        store.add_annotator(con, name, token_hash(token))
    return token


def new_token(workspace: Workspace, name: str) -> str:
    """Replace an annotator's token (the old one stops working) and return the new one."""
    token = secrets.token_urlsafe(18)
    with workspace.transaction() as con:
        if not store.find_annotator(con, name):
            raise InputError("annotator", f"no annotator named {name!r}", fix="add one with `curate annotators add NAME`")
        store.set_token_hash(con, name, token_hash(token))
    return token


def sign_in(workspace: Workspace, token: str) -> str:
    """The name of the annotator holding ``token``; refuses unknown tokens."""
    with workspace.connect() as con:
        name = store.annotator_by_hash(con, token_hash(token)) if token.strip() else None
    if name is None:
        raise SignInError("unknown sign-in token; fix: paste the token printed by `curate annotators add NAME`")
    return name


def list_annotators(workspace: Workspace) -> list[dict[str, Any]]:
    if not workspace.exists():
        return []
    with workspace.connect() as con:
        return store.list_annotators(con)


def needs_sign_in(workspace: Workspace) -> bool:
    """True once a workspace has annotators: from then on every label needs a signed-in name."""
    if not workspace.exists():
        return False
    with workspace.connect() as con:
        return store.count_annotators(con) > 0


def check_annotator(workspace: Workspace, name: str) -> None:
    """Refuse a name that is not a registered annotator (``local`` is allowed while there are none)."""
    with workspace.connect() as con:
        if store.find_annotator(con, name) or (name == LOCAL and store.count_annotators(con) == 0):
            return
    raise InputError("--annotator", f"no annotator named {name!r}", fix=f"add one with `curate annotators add {name}`")


def authorize(workspace: Workspace, annotator: str, *, token: str | None = None, admin: bool = False) -> bool:
    """May this caller write answers as ``annotator``? Once a workspace has annotators, only with that
    annotator's sign-in token, or as an explicit admin action (returns True: record it as such)."""
    check_annotator(workspace, annotator)
    if not needs_sign_in(workspace):
        return False
    if admin:
        return True
    if not token or not token.strip():
        raise InputError("--annotator", f"writing as {annotator} needs {annotator}'s sign-in token",
                         fix="pass --token TOKEN (or set CURATE_TOKEN), or --admin to record it as an admin action")
    if sign_in(workspace, token) != annotator:
        raise InputError("--token", f"that token is not {annotator}'s",
                         fix=f"use {annotator}'s token (`curate annotators token {annotator}` issues a new one), or --admin")
    return False


def origin(kind: str, admin: bool) -> str:
    """How an answer is recorded: ``import``, ``prelabel``, ``suspects``..., with ``:admin`` when an admin
    wrote it on the annotator's behalf."""
    return f"{kind}:admin" if admin else kind
