"""Every CLI command is documented in the README (sqlite-utils' test_docs idea)."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands(group, prefix: str = "curate") -> list[str]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):  # a sub-app such as `curate version`
            out += _commands(cmd, f"{prefix} {name}")
        else:
            out.append(f"{prefix} {name}")
    return out


def test_every_command_is_in_the_readme() -> None:
    commands = _commands(typer.main.get_command(app))
    assert len(commands) >= 25
    missing = [c for c in commands if c not in README]
    assert missing == []
