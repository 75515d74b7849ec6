"""The library never imports streamlit or typer; only the UI and CLI shells do."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "curate"
SHELLS = ("ui/", "cli", "__main__")  # __main__.py runs the CLI: a shell too


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_library_modules_do_not_import_ui_frameworks() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(SHELLS):
            continue
        if bad := _imports(path) & {"streamlit", "typer"}:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert offenders == []


def test_importing_the_library_loads_neither() -> None:
    modules = sorted({"curate." + p.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
                      for p in PACKAGE.rglob("*.py")
                      if not p.relative_to(PACKAGE).as_posix().startswith(SHELLS) and p.name != "__init__.py"})
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(sorted(k for k in ('streamlit', 'typer') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sql_lives_in_the_store() -> None:
    import re

    sql = re.compile(r"\b(SELECT .* FROM|INSERT INTO|CREATE TABLE|UPDATE \w+ SET|DELETE FROM)\b")
    offenders = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                 if not p.relative_to(PACKAGE).as_posix().startswith("store/") and sql.search(p.read_text())]
    assert offenders == []
