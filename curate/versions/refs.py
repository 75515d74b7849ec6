"""Names: a version is ``DATASET:NAME`` everywhere (``sst2:v3``); eval sets have plain names."""

from __future__ import annotations

import re

from curate.errors import InputError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SPLITS = ("train", "validation", "test")


def parse_ref(ref: str) -> tuple[str, str]:
    """``"sst2:v3"`` → ``("sst2", "v3")``; anything else raises one line with the fix."""
    dataset, sep, name = (ref or "").strip().partition(":")
    if not sep or not dataset or not name:
        raise InputError("version", f"cannot read {ref!r} as a version", fix="name a version as DATASET:NAME, e.g. sst2:v3")
    return dataset, name


def make_ref(dataset: str, name: str) -> str:
    return f"{dataset}:{name}"


def check_name(name: str, what: str = "version") -> str:
    """A valid version or eval-set name: 1–64 letters, digits, '_', '.', '-' (no ':')."""
    if not isinstance(name, str) or not NAME.match(name):
        raise InputError(what, f"invalid name {name!r}", fix="use 1–64 letters, digits, '_', '.' or '-', e.g. v3")
    return name


def check_split(split: str | None, *, allow_all: bool = False) -> str | None:
    """``train``, ``validation`` or ``test`` (``all`` too where a whole version is meant)."""
    if split is None:
        return None
    known = SPLITS + (("all",) if allow_all else ())
    if split not in known:
        raise InputError("--split", f"unknown split {split!r}", fix=f"use one of {', '.join(known)}")
    return split
